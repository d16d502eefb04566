# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks' run variables, declared once: type, bounds, choices, default as shown, meaning.

The check_run_vars action checks the ones a run was given before anything is made (one line per run, naming
each bad variable and what to do) and warns about an extra variable whose name is close to a known one; the
reference in docs/variables.md is made from this declaration (make docs; tests/unit checks it is current). Role variables are
declared by each role's meta/argument_specs.yml, which the roles check themselves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.funaudiochat.runpod.plugins.module_utils._layout import DEFAULT_HOME

BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


class Var(object):
    """One run variable. ``kind``: str, int, float, bool, list, choice, minutes, hours; ``shown``: its default as the
    docs show it; ``doc``: its meaning (Markdown); ``hint``: what to do, said with a bad value."""

    def __init__(self, name, kind, shown, doc, minimum=None, maximum=None, choices=None, pattern=None, hint="",
                 secret=False, table=True):
        self.name, self.kind, self.shown, self.doc = name, kind, shown, doc
        self.minimum, self.maximum, self.choices, self.pattern = minimum, maximum, choices, pattern
        self.hint, self.secret, self.table = hint, secret, table

    def what(self):
        """What a good value is, in words."""
        if self.kind == "choice":
            return "one of %s" % ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "minutes":
            return "whole minutes, %s or more" % self.minimum
        if self.kind == "hours":
            return "a number of hours, %s or more" % self.minimum
        if self.kind in ("int", "float"):
            noun = "a whole number" if self.kind == "int" else "a number"
            if self.maximum is not None:
                return "%s from %s to %s" % (noun, self.minimum, self.maximum)
            return "%s, %s or more" % (noun, self.minimum) if self.minimum is not None else noun
        if self.kind == "list":
            return "a list (or one item)"
        return "text"

    def problem(self, value):
        """None when ``value`` is good, else what is wrong with it, in one line."""
        text = value if isinstance(value, str) else None
        good = True
        if self.kind == "bool":
            good = isinstance(value, bool) or str(value).lower() in BOOLEANS
        elif self.kind == "choice":
            good = str(value).lower() in self.choices
        elif self.kind in ("int", "minutes"):
            good = not isinstance(value, bool) and re.match(r"^-?[0-9]+$", str(value).strip()) is not None
            good = good and self._in_bounds(int(str(value).strip()))
        elif self.kind in ("float", "hours"):
            good = not isinstance(value, bool) and re.match(r"^-?[0-9]+(\.[0-9]+)?$", str(value).strip()) is not None
            good = good and self._in_bounds(float(str(value).strip()))
        elif self.kind == "list":
            good = isinstance(value, (list, str))
        elif self.kind == "str":  # a number given where text is read (-e provision_serial=2 as JSON) is its text
            good = isinstance(value, (str, int, float)) and not isinstance(value, bool) and (
                self.pattern is None or re.match(self.pattern, str(value)) is not None)
        if good:
            return None
        got = "" if self.secret else " (got %s)" % (text if text is not None else repr(value))
        if self.kind == "str" and self.pattern is not None:
            return "%s%s" % (self.hint, got)
        hint = "; %s" % self.hint if self.hint else ""
        return "%s must be %s%s%s" % (self.name, self.what(), got, hint)

    def _in_bounds(self, number):
        return (self.minimum is None or number >= self.minimum) and (self.maximum is None or number <= self.maximum)


KEY_PATTERN = r"^[A-Za-z0-9_-]{16,}$"
POD_COUNT_CAP = 10  # the most pods one run makes without confirm=yes, unless pod_count_cap says

# deploy.yml's variables, in the docs' order; then those of the other playbooks (table=False: described where
# those playbooks are).
VARIABLES = (
    Var("gpu", "list", "`[A40, L40S, A6000]`",
        "GPU(s) tried in order: `A40`, `4090`, `L40S`, `A6000`, `A100`, `H100`, `H200` or RunPod ids like `NVIDIA A40`"),
    Var("cloud_type", "list", "`[SECURE, COMMUNITY]`", "cloud types tried in order for each GPU"),
    Var("pod_name", "str", "`fac-1`; with `pod_count`: `fac`",
        "the pod's name, its identity on re-runs; with `pod_count`, the fleet's name"),
    Var("pod_count", "int", "unset: one pod",
        "a fleet of pods `<pod_name>-1` .. `-N`, made and provisioned at once, behind one front door (see [fleet](fleet.md))",
        minimum=1),
    Var("confirm", "choice", "`no`",
        "`yes` lets a lower `pod_count` terminate the fleet's highest-numbered pods, and a `pod_count` above "
        "`pod_count_cap` make its pods", choices=("yes", "no")),
    Var("pod_count_cap", "int", "`%d`" % POD_COUNT_CAP, "the most pods one run makes without `-e confirm=yes`",
        minimum=1),
    Var("gpu_count", "int", "`1`", "GPUs per pod", minimum=1, maximum=8),
    Var("image", "str", "`runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204`",
        "container image: RunPod's official torch 2.8.0 + CUDA 12.8.1 image (`...-ubuntu2404` for Ubuntu 24.04)"),
    Var("container_disk_gb", "int", "`50`", "container disk (wiped on stop; pip unpacks the wheels there)", minimum=1),
    Var("volume_gb", "int", "`80`",
        "volume at `/workspace` (kept on stop): the app, its environment, the models and the logs live there",
        minimum=0),
    Var("network_volume", "str", "unset",
        "name of a network volume, created or reused, mounted at `/workspace` instead of the pod volume: the models "
        "outlive the pod, and the pod is placed in the volume's data center"),
    Var("network_volume_gb", "int", "unset", "its size, to create it (grows an existing one)", minimum=1),
    Var("network_volume_data_center", "str", "unset", "its data center (e.g. `EU-RO-1`), to create it"),
    Var("prefetch", "choice", "`auto`",
        "with `network_volume`: fill it from a CPU pod before the GPU pod is made, when the run creates it (`auto`), "
        "always (`true`) or never (`false`)", choices=("auto", "true", "yes", "false", "no")),
    Var("prefetch_instance_id", "list", "`[cpu3c-4-8, cpu3g-4-16, cpu5c-4-8]`",
        "CPU instances tried in order for the prefetch pod (`<flavour>-<vCPUs>-<GB RAM>`; `gpu_info` with "
        "`instance_id` shows price and stock)"),
    Var("prefetch_container_disk_gb", "int", "`40`",
        "the prefetch pod's container disk (pip unpacks wheels there; at most 10 GB per vCPU on cpu3)", minimum=1),
    Var("prefetch_pod_name", "str", "`<network_volume>-prefetch`", "the prefetch pod's name"),
    Var("servers_per_pod", "int", "`0`: one per 28 GB of GPU memory",
        "server processes per pod, one conversation each (see [servers per pod](front-door.md); same as "
        "`server_count`)", minimum=0),
    Var("ports", "list",
        "`22/tcp`, `8000/http`, `8010/tcp` (with `front_door=false`: one port per server from `8002/tcp` up instead "
        "of the front door's)",
        "22 for SSH, 8000 and 8010 for the front door (the servers are on loopback behind it)"),
    Var("front_door", "bool", "`true`",
        "HAProxy in front of the servers, locked with the door's key: one URL, a conversation per server, a bounded "
        "queue"),
    Var("front_door_host", "str", "the fleet's first pod by name", "the pod that runs a fleet's front door"),
    Var("front_door_key", "str", "made at the first deploy",
        "the door's key (from a vault, say); by default made and kept in "
        "`~/.config/funaudiochat.runpod/<deploy>.door-key` (see [security](security.md))",
        pattern=KEY_PATTERN, secret=True,
        hint="front_door_key must be 16 or more letters, digits, - or _ (leave it out and deploy.yml makes one, "
             "kept in ~/.config/funaudiochat.runpod)"),
    Var("front_door_key_rotate", "bool", "`false`", "`true` makes the door a new key; the old links answer HTTP 401"),
    Var("ssh_public_key_file", "str", "`~/.ssh/id_ed25519.pub`, `id_ecdsa.pub` or `id_rsa.pub`",
        "key authorised for root (`PUBLIC_KEY`)"),
    Var("ssh_public_key", "str", "unset", "the key's text instead of a file (AWX / Automation Platform)"),
    Var("wait_timeout", "int", "`900`", "seconds to wait for SSH; a pod that never answers is terminated", minimum=1),
    Var("hf_token", "str", "`HF_TOKEN` from the environment",
        "Hugging Face token for gated or private repositories; never logged, never written on the pod", secret=True),
    Var("tts_gpu", "int", "one GPU: `0`; two or more: `1`",
        "a single server's `--tts-gpu` (same as `server_tts_gpu`); several servers run their TTS worker on their own "
        "GPU", minimum=0),
    Var("model_source", "choice", "`huggingface`", "`huggingface` or `modelscope` (same as `models_source`)",
        choices=("huggingface", "modelscope")),
    Var("s2s_expect", "str", "`Paris`",
        "words the spoken answer must contain (the shipped probe asks for the capital of France)"),
    Var("s2s_reply_timeout", "int", "`120`", "seconds the spoken check waits for the answer", minimum=1),
    Var("idle_stop_minutes", "minutes", "`60`",
        "the pod stops itself after this many minutes without a conversation; `0`: never (see [self-healing and "
        "idle stop](self-healing.md))", minimum=0, hint="0: the pod never stops itself; 90, not 1h30m"),
    Var("max_hours", "hours", "`0`: none", "the pod stops itself this many hours after it started, busy or not",
        minimum=0, hint="0: no cap; 1.5, not 90m"),
    Var("backstop_hours", "hours", "`max_hours`, else `24`",
        "RunPod itself stops each pod the run makes this many hours after its creation, whatever runs on it "
        "(`stopAfter`, set at creation only); `0`: none (see [costs](costs.md))", minimum=0,
        hint="0: none; 1.5, not 90m"),
    Var("start_command", "str", "the boot script, then `/start.sh`",
        "the pod's start command (RunPod's `dockerArgs`), set when the pod is made; `''` keeps the image's own (no "
        "self-healing)"),
    Var("provision_venv_gb", "float", "`15`",
        "GB the app's Python environment is counted for in the disk check before the first install (0 once "
        "installed)", minimum=0),
    # The other playbooks' (reprovision.yml, provision.yml, status.yml).
    Var("rolling_serial", "str", "`1`", "reprovision.yml: pods per turn, or a percentage such as `25%`", table=False,
        pattern=r"^[0-9]+%?$", hint="rolling_serial must be a number of pods or a percentage such as 25%"),
    Var("rolling_max_fail_percentage", "int", "`0`", "reprovision.yml: the roll stops past this share of failed pods",
        minimum=0, maximum=100, table=False),
    Var("provision_serial", "str", "`100%`", "provision.yml: pods per batch", table=False, pattern=r"^[0-9]+%?$",
        hint="provision_serial must be a number of pods or a percentage such as 25%"),
    Var("provision_max_fail_percentage", "int", "`100`", "provision.yml: a batch fails past this share",
        minimum=0, maximum=100, table=False),
    Var("provision_hosts", "str", "`runpod`", "provision.yml: the hosts it runs on", table=False),
    Var("name_prefix", "str", "`fac-`", "status.yml: the pods it shows", table=False),
    Var("status_timeout", "int", "`15`", "status.yml: seconds a server has to answer", minimum=1, table=False),
    Var("provision_rolling", "bool", "`false`", "provision.yml: drain each pod for its turn (reprovision.yml sets it)",
        table=False),
    Var("provision_volume_lock", "bool", "with a network volume", "provision.yml: take the volume's writer lock",
        table=False),
    Var("front_door_key_dir", "str", "`~/.config/funaudiochat.runpod`", "where the doors' keys are kept",
        table=False),
    Var("funaudiochat_home", "str", "`%s`" % DEFAULT_HOME, "the app's home on the pod's volume", table=False),
)

BY_NAME = dict((var.name, var) for var in VARIABLES)


def problems(values):
    """One line per bad value among ``values`` (name -> value, the run variables a run was given), then the checks
    across variables."""
    found = [BY_NAME[name].problem(value) for name, value in sorted(values.items())
             if name in BY_NAME and value is not None]
    found = [line for line in found if line]
    count, cap = values.get("pod_count"), values.get("pod_count_cap", POD_COUNT_CAP)
    if not found and count is not None and int(count) > int(cap) and str(values.get("confirm", "no")).lower() != "yes":
        found.append("pod_count=%s would make %s GPU pods at once (more than %s): re-run with -e confirm=yes if that "
                     "is what you want" % (count, count, cap))
    return found


def unknown(names, known):
    """Warnings for the given names that are not known but close to one that is (a typo silently ignored)."""
    warnings = []
    for name in sorted(set(names) - set(known)):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.85)
        if close:
            warnings.append("-e %s is not a variable this collection reads: did you mean %s?" % (name, close[0]))
    return warnings


def markdown_table():
    """deploy.yml's variables as docs/variables.md shows them."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows.extend("| `%s` | %s | %s |" % (var.name, var.shown, var.doc) for var in VARIABLES if var.table)
    return rows
