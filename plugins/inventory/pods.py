# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: pods
short_description: RunPod pods as inventory hosts
version_added: 0.1.0
description:
  - Reads the account's pods from the RunPod API in one call and adds each reachable one as a host,
    with C(ansible_host)/C(ansible_port) set to the public mapping of its SSH port.
  - The configuration file must end in C(runpod.yml) or C(runpod.yaml).
  - Every host is in the group C(runpod), C(runpod_gpu_<gpu>) and C(runpod_status_<status>); the pods of a
    fleet (named C(<fleet>-1) to C(<fleet>-N), as C(deploy.yml -e pod_count=N) makes them) are also in
    C(runpod_fleet_<fleet>), and have C(runpod_fleet) set.
  - The API key never reaches hostvars, the cache or any output.
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
extends_documentation_fragment:
  - constructed
  - inventory_cache
requirements:
  - runpod (the RunPod Python SDK)
  - requests
options:
  plugin:
    description: Marks this file as a configuration for this plugin.
    required: true
    type: str
    choices: [funaudiochat.runpod.pods]
  api_key:
    description:
      - RunPod API key. May be a template (for example a vaulted variable) or come from E(RUNPOD_API_KEY).
    type: str
    env:
      - name: RUNPOD_API_KEY
  api_base_url:
    description: Base URL of the RunPod API.
    type: str
    default: https://api.runpod.io
    env:
      - name: RUNPOD_API_BASE_URL
  api_timeout:
    description: Seconds to wait for the API's answer before retrying.
    type: int
    default: 30
  api_retry_deadline:
    description:
      - Seconds to keep retrying when RunPod does not answer (429, 5xx, timeouts, dropped connections).
      - When it still has not answered and O(cache) is on, the last cached inventory is used, with a warning;
        without a cache the inventory fails saying RunPod is unreachable.
    type: int
    default: 120
    version_added: 0.2.0
  statuses:
    description: Pod states to include, V(RUNNING) and V(EXITED) (stopped). Terminated pods never appear.
    type: list
    elements: str
    default: [RUNNING]
  name_patterns:
    description: Only pods whose name matches one of these shell-style patterns (V(fac-*)).
    type: list
    elements: str
    default: []
  name_prefix:
    description: Only pods whose name starts with this.
    type: str
  gpu_types:
    description: Only pods on these GPUs; friendly names (V(A40), V(H100)), GPU ids or display names.
    type: list
    elements: str
    default: []
  hostname:
    description:
      - Inventory hostname of each pod; V(name), V(id), or a Jinja2 expression over the pod's hostvars
        (for example V(runpod_name ~ '-' ~ runpod_id)).
      - Two pods with the same name get C(name-id) host names.
    type: str
    default: name
  hostvars_prefix:
    description: Prefix of the variables set for each host.
    type: str
    default: runpod_
  ssh_private_port:
    description: Container port of the pod's SSH server.
    type: int
    default: 22
  ssh_user:
    description: C(ansible_user) for the pods.
    type: str
    default: root
  known_hosts_file:
    description:
      - Known-hosts file for the pods' SSH host keys. Each host gets C(ansible_ssh_common_args) that
        record and check its key under the alias C(runpod-<pod id>) in this file, trusting a new pod's
        key on first use (C(StrictHostKeyChecking=accept-new)); the same options the
        M(funaudiochat.runpod.pod) module returns for C(add_host). A reused ip:port never meets another
        pod's stored key, and the collection forgets a pod's key whenever it starts or terminates it.
        A pod started outside the collection (RunPod's console) is noticed from its uptime; the plugin
        notes each pod's start on a comment line of this file and forgets the key of a pod that
        started since, so its new key is learnt again (not from a cached inventory).
        The options also end a connection to a pod that stops answering for a minute
        (C(ServerAliveInterval)), so a task on a vanished pod fails as unreachable instead of hanging.
      - Set C(ansible_ssh_common_args) with O(compose) to replace these options.
    type: str
    default: ~/.ssh/known_hosts_runpod
    env:
      - name: FUNAUDIOCHAT_KNOWN_HOSTS
  include_unreachable:
    description:
      - Also add pods with no public mapping for O(ssh_private_port) (stopped or still booting),
        without C(ansible_host). By default they are left out with a message at C(-v).
    type: bool
    default: false
"""

EXAMPLES = r"""
# inventory/runpod.yml
plugin: funaudiochat.runpod.pods
name_prefix: fac-
keyed_groups:
  - key: runpod_data_center
    prefix: dc

# Another file, prod.runpod.yml: a vaulted key, stopped pods too, cached for 5 minutes
# plugin: funaudiochat.runpod.pods
# api_key: "{{ vault_runpod_api_key }}"
# statuses: [RUNNING, EXITED]
# include_unreachable: true
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/runpod-inventory
# cache_timeout: 300
"""

import fnmatch
import re

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _pods
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _ssh
from ansible_collections.funaudiochat.runpod.plugins.module_utils._checks import check_api_options

# Pod fields kept in the cache; env values are dropped (they may hold secrets).
_SAFE_FIELDS = ("id", "name", "desiredStatus", "imageName", "costPerHr", "gpuCount", "podType",
                "containerDiskInGb", "volumeInGb", "volumeMountPath", "templateId", "networkVolumeId",
                "ports", "machine", "runtime")


# The desiredStatus values of a pod that exists: running, or stopped (EXITED). Terminated pods never appear.
STATUSES = ("RUNNING", "EXITED")


class RunPodUnreachable(AnsibleParserError):
    """The API did not answer (timeouts, dropped connections, 5xx) until the retry deadline."""


def _slug(text):
    return re.sub(r"[^A-Za-z0-9_]", "_", str(text or "unknown")).lower()


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "funaudiochat.runpod.pods"

    def verify_file(self, path):
        if not super().verify_file(path):
            return False
        return path.endswith(("runpod.yml", "runpod.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        self._check_options()
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        pods = None
        if use_cache:
            try:
                pods = self._cache[cache_key]
            except KeyError:
                update_cache = True
        fresh = False
        if pods is None:
            try:
                pods = self._fetch()
                fresh = True
            except RunPodUnreachable as exc:
                pods = self._cached_after_failure(cache_key, exc)
                update_cache = False
        if update_cache:
            self._cache[cache_key] = pods
        self._populate(pods, fresh)

    def _cached_after_failure(self, cache_key, exc):
        """RunPod did not answer: the last cached pods when a cache is configured, else the error."""
        if not self.get_option("cache"):
            raise exc
        try:
            pods = self._cache[cache_key]
        except KeyError:
            raise AnsibleParserError("%s; no cached inventory to fall back to yet" % exc)
        self.display.warning("%s; using the cached inventory (its pods and ports may be out of date)" % exc)
        return pods

    def _check_options(self):
        """Bad settings fail in one line before RunPod is asked anything."""
        names = ("api_timeout", "api_retry_deadline", "api_base_url", "ssh_private_port")
        problem = check_api_options(dict((name, self.get_option(name)) for name in names),
                                    dict(ssh_private_port=(1, 65535)))
        unknown = [status for status in self.get_option("statuses") if str(status).upper() not in STATUSES]
        if problem is None and unknown:
            problem = "statuses: %r is not a pod status; use %s" % (unknown[0], ", ".join(STATUSES))
        if problem:
            raise AnsibleParserError("%s: %s" % (self.NAME, problem))

    # ------------------------------------------------------------------ API
    def _api_key(self):
        key = self.get_option("api_key")
        if key and self.templar.is_template(key):
            key = self.templar.template(key)
        return to_native(key) if key else None

    def _fetch(self):
        missing = _client.sdk_missing()
        if missing:
            raise AnsibleError("The %s inventory plugin needs the Python library %r: %s"
                               % (self.NAME, missing[0], missing[1]))
        try:
            client = _client.Client(self._api_key(), base_url=self.get_option("api_base_url"),
                                    timeout=self.get_option("api_timeout"),
                                    retry_deadline=self.get_option("api_retry_deadline"))
            pods = client.list_pods()
        except _client.TransientError as exc:
            raise RunPodUnreachable("%s: RunPod is unreachable: %s" % (self.NAME, exc))
        except _client.RunPodError as exc:
            raise AnsibleParserError("%s: %s" % (self.NAME, exc))
        return [self._safe(pod) for pod in pods]

    @staticmethod
    def _safe(pod):
        safe = dict((key, pod.get(key)) for key in _SAFE_FIELDS)
        safe["env"] = ["%s=" % item.split("=", 1)[0] for item in pod.get("env") or []]  # names only
        return safe

    # -------------------------------------------------------------- filters
    def _wanted(self, pod):
        statuses = [s.upper() for s in self.get_option("statuses")]
        status = pod.get("desiredStatus")
        if status == "TERMINATED" or (statuses and status not in statuses):
            return False
        name = pod.get("name") or ""
        prefix = self.get_option("name_prefix")
        if prefix and not name.startswith(prefix):
            return False
        patterns = self.get_option("name_patterns")
        if patterns and not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            return False
        gpu_types = self.get_option("gpu_types")
        if gpu_types and not self._gpu_matches(pod, gpu_types):
            return False
        return True

    @staticmethod
    def _gpu_matches(pod, wanted):
        machine = pod.get("machine") or {}
        names = set()
        for item in wanted:
            key = str(item).strip().upper().replace(" ", "").replace("_", "-")
            names.update(gpu.upper() for gpu in _pods.GPU_ALIASES.get(key, []))
            names.add(str(item).strip().upper())
        return (str(machine.get("gpuTypeId") or "").upper() in names
                or str(machine.get("gpuDisplayName") or "").upper() in names)

    # ------------------------------------------------------------- populate
    def _populate(self, pods, fresh):
        """Add the pods as hosts; ``fresh``: read from RunPod just now (a cached uptime says nothing of restarts)."""
        prefix = self.get_option("hostvars_prefix")
        strict = self.get_option("strict")
        port = self.get_option("ssh_private_port")
        self.inventory.add_group("runpod")
        counts = {}
        for pod in pods:
            counts[pod.get("name")] = counts.get(pod.get("name"), 0) + 1
        wanted = [pod for pod in pods if self._wanted(pod)]
        if fresh:  # a pod started since the last look has new host keys (see _ssh)
            _ssh.note_starts(dict((pod.get("id"), (pod.get("runtime") or {}).get("uptimeInSeconds"))
                                  for pod in wanted), self.get_option("known_hosts_file"))
        for pod in sorted(wanted, key=lambda p: (p.get("name") or "", p.get("id") or "")):
            host_ip = _pods.ssh_endpoint(pod, port)[0]
            if host_ip is None and not self.get_option("include_unreachable"):
                self.display.v("%s: leaving out pod %s (%s): no public mapping for port %s/tcp (status %s)"
                               % (self.NAME, pod.get("name"), pod.get("id"), port, pod.get("desiredStatus")))
                continue
            hostvars = _pods.host_entry(_pods.summarize(pod, port), _ssh.ssh_common_args(
                pod.get("id"), self.get_option("known_hosts_file")), self.get_option("ssh_user"), prefix)
            del hostvars["name"]  # the inventory name is chosen below (the hostname option)
            hostname = self._hostname(pod, hostvars, counts)
            self.inventory.add_host(hostname, group="runpod")
            for key, value in hostvars.items():
                self.inventory.set_variable(hostname, key, value)
            gpu_group = self.inventory.add_group("runpod_gpu_%s" % _slug(hostvars[prefix + "gpu"]))
            self.inventory.add_child(gpu_group, hostname)
            status_group = self.inventory.add_group("runpod_status_%s" % _slug(pod.get("desiredStatus")))
            self.inventory.add_child(status_group, hostname)
            if hostvars[prefix + "fleet"]:
                fleet_group = self.inventory.add_group("runpod_fleet_%s" % _slug(hostvars[prefix + "fleet"]))
                self.inventory.add_child(fleet_group, hostname)
            self._set_composite_vars(self.get_option("compose"), hostvars, hostname, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, hostname, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, hostname, strict=strict)

    def _hostname(self, pod, hostvars, counts):
        choice = self.get_option("hostname")
        if choice == "name":
            name = pod.get("name") or pod.get("id")
            if counts.get(pod.get("name"), 0) > 1:
                name = "%s-%s" % (name, pod.get("id"))
            return name
        if choice == "id":
            return pod.get("id")
        try:
            return to_native(self._compose(choice, hostvars))
        except Exception as exc:  # pylint: disable=broad-except
            raise AnsibleParserError("%s: hostname %r could not be rendered: %s" % (self.NAME, choice, exc))
