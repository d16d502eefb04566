# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Private to the funaudiochat.runpod collection; not a public API.

How the controller reaches a pod over SSH: the one place for the host-key policy.

RunPod pods make new SSH host keys at every start (the container disk, where
/etc/ssh lives, is wiped on stop; runpod/containers container-template/start.sh
runs `ssh-keygen -A` at start), and a public ip:port comes back for other pods
after a stop. So a pod's key is recorded under an alias made of its pod id
(HostKeyAlias), in a known-hosts file of its own, and trusted on first use
(StrictHostKeyChecking=accept-new):

* another pod behind a reused ip:port has another alias, so it never collides
  with a stored key, and a pod answering on the wrong port fails loudly;
* when this collection creates, starts or terminates a pod, it forgets that
  pod's alias (forget()), so the new key of a resumed pod is learnt again;
* a pod (re)started outside the collection (RunPod's console, runpodctl) is
  noticed from the uptime RunPod reports: note_starts() keeps each pod's start
  time on a comment line of the same file (ssh skips comments) and forgets
  the key of a pod that started since, so its new key is learnt again;
* a key that changes at any other time stops the connection with OpenSSH's
  own "REMOTE HOST IDENTIFICATION HAS CHANGED" error.

A pod can also vanish under a running task (stopped, restarted or moved by
RunPod): its TCP connection may then never be closed, and an ssh client that
only waits for output would wait forever. ServerAliveInterval makes the client
ask every SERVER_ALIVE_INTERVAL seconds and give up after SERVER_ALIVE_COUNT_MAX
unanswered asks (ssh_config(5)), so Ansible reports the pod unreachable within
about a minute instead of hanging the run.

Both the pod module (whose ssh_common_args deploy.yml hands to add_host) and
the pods inventory plugin take their SSH options from here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import os
import re
import tempfile
import time

try:
    from shlex import quote
except ImportError:  # pragma: no cover - Python 2
    from pipes import quote

KNOWN_HOSTS_ENV = "FUNAUDIOCHAT_KNOWN_HOSTS"
KNOWN_HOSTS_DEFAULT = "~/.ssh/known_hosts_runpod"
SERVER_ALIVE_INTERVAL = 15
SERVER_ALIVE_COUNT_MAX = 4
# "# funaudiochat-start runpod-<id> <epoch seconds>": when the collection last saw that pod start.
START_MARK = "# funaudiochat-start"
# How far two readings of one start (now - uptime) may differ: RunPod's uptime is a report, not a clock.
START_SLACK_SECONDS = 120
# RunPod pod ids are short lowercase alphanumerics; anything else is never written into the file.
_POD_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def known_hosts_file(value=None):
    """The known-hosts file: the option given, else $FUNAUDIOCHAT_KNOWN_HOSTS, else ~/.ssh/known_hosts_runpod."""
    return value or os.environ.get(KNOWN_HOSTS_ENV) or KNOWN_HOSTS_DEFAULT


def host_key_alias(pod_id):
    return "runpod-%s" % pod_id


def ssh_common_args(pod_id, known_hosts=None):
    """The options for ansible_ssh_common_args (Ansible splits them with shlex)."""
    path = os.path.expanduser(known_hosts_file(known_hosts))
    # HashKnownHosts=no: the file holds only these aliases, readable for troubleshooting.
    return ("-o HostKeyAlias=%s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=accept-new "
            "-o HashKnownHosts=no -o ServerAliveInterval=%d -o ServerAliveCountMax=%d"
            % (host_key_alias(pod_id), quote(path), SERVER_ALIVE_INTERVAL, SERVER_ALIVE_COUNT_MAX))


def ensure_directory(known_hosts=None):
    """ssh cannot record a key in a directory that does not exist (on a fresh machine, ~/.ssh)."""
    directory = os.path.dirname(os.path.expanduser(known_hosts_file(known_hosts)))
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, 0o700)


def forget(pod_id, known_hosts=None):
    """Drop the pod's recorded host keys (and its noted start); True when something was removed."""
    path = os.path.expanduser(known_hosts_file(known_hosts))
    alias = host_key_alias(pod_id)
    lines = _read(path)
    kept = [line for line in lines if not _names(line, alias) and _start_mark(line)[0] != alias]
    if len(kept) == len(lines):
        return False
    _write(path, kept)
    return True


def note_starts(uptimes, known_hosts=None, now=None):
    """Forget the keys of pods started since the start noted last; note their starts.

    ``uptimes``: {pod id: the uptime RunPod reports}; a start is now - uptime. A pod never
    noted before keeps its key (there is nothing to compare with); one without an uptime (its
    container not up) is left alone. One read of the file and at most one write, however many
    pods. Returns the ids whose key was forgotten.
    """
    now = time.time() if now is None else now
    starts = dict((host_key_alias(pod_id), int(now - uptime))
                  for pod_id, uptime in uptimes.items()
                  if uptime and uptime > 0 and _POD_ID.match(str(pod_id or "")))
    if not starts:
        return []
    path = os.path.expanduser(known_hosts_file(known_hosts))
    lines = _read(path)
    noted = dict(mark for mark in (_start_mark(line) for line in lines) if mark[0] in starts)
    restarted = set(alias for alias, start in starts.items()
                    if alias in noted and abs(start - noted[alias]) > START_SLACK_SECONDS)
    renoted = restarted | set(alias for alias in starts if alias not in noted)
    if not renoted:
        return []
    kept, forgotten = [], set()
    for line in lines:
        if _start_mark(line)[0] in renoted:
            continue
        stale = [alias for alias in restarted if _names(line, alias)]
        if stale:
            forgotten.update(stale)
            continue
        kept.append(line)
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    _write(path, kept + ["%s %s %d\n" % (START_MARK, alias, starts[alias]) for alias in sorted(renoted)])
    return sorted(alias[len(host_key_alias("")):] for alias in forgotten)


def _read(path):
    try:
        with open(path) as handle:
            return handle.readlines()
    except (IOError, OSError):
        return []


def _write(path, lines):
    """Replace the file atomically (mode 0600), making its directory when missing."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".known_hosts.")
    try:
        with os.fdopen(handle, "w") as out:
            out.writelines(lines)
        os.chmod(temp, 0o600)
        os.rename(temp, path)
    except Exception:
        os.unlink(temp)
        raise


def _start_mark(line):
    """(alias, start) of a START_MARK line, else (None, None)."""
    fields = line.split()
    if len(fields) == 4 and " ".join(fields[:2]) == START_MARK and fields[3].isdigit():
        return fields[2], int(fields[3])
    return None, None


def _names(line, alias):
    """Whether a known_hosts line is for alias, in plain or hashed (|1|salt|hash) form."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return False
    for name in fields[0].split(","):
        if name == alias:
            return True
        if name.startswith("|1|"):
            try:
                salt, digest = name[3:].split("|", 1)
                mac = hmac.new(base64.b64decode(salt), alias.encode(), hashlib.sha1).digest()
            except (ValueError, TypeError):
                continue
            if base64.b64encode(mac).decode() == digest:
                return True
    return False
