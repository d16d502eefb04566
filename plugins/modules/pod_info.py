#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pod_info
short_description: List RunPod pods
version_added: 0.1.0
description:
  - Returns the account's pods, optionally filtered, in the same shape as M(funaudiochat.runpod.pod) returns.
  - Makes one API call for the whole list (or one per O(id)).
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
extends_documentation_fragment:
  - funaudiochat.runpod.runpod
  - funaudiochat.runpod.attributes.info_module
options:
  name:
    description: Only the pod with exactly this name.
    type: str
  id:
    description: Only the pod with this id.
    type: str
  name_prefix:
    description: Only pods whose name starts with this.
    type: str
  status:
    description: Only pods in these states (V(RUNNING), V(EXITED), ...). Empty means all.
    type: list
    elements: str
    default: []
  ssh_private_port:
    description: Container port whose public mapping is reported as C(ssh_port) of each pod.
    type: int
    default: 22
  known_hosts_file:
    description:
      - Known-hosts file named in each pod's C(ssh_common_args), as in M(funaudiochat.runpod.pod). Like the
        P(funaudiochat.runpod.pods#inventory) inventory plugin, this module only forgets the key of a pod that
        started again since its start was noted (RunPod makes new host keys at every start), and notes starts.
      - Defaults to E(FUNAUDIOCHAT_KNOWN_HOSTS), then C(~/.ssh/known_hosts_runpod).
    type: str
seealso:
  - module: funaudiochat.runpod.pod
"""

EXAMPLES = r"""
- name: All running Fun-Audio-Chat pods
  funaudiochat.runpod.pod_info:
    name_prefix: fac-
    status: [RUNNING]
  register: found

- name: Where to SSH
  ansible.builtin.debug:
    msg: "{{ found.pods | map(attribute='ssh_port') }}"

- name: Add the running pods to this run's inventory, as the inventory plugin would
  ansible.builtin.add_host: "{{ item.host | combine({'groups': ['found']}) }}"
  loop: "{{ found.pods }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
pods:
  description:
    - Matching pods, sorted by name, in the shape M(funaudiochat.runpod.pod) returns as RV(funaudiochat.runpod.pod#module:pod),
      plus each pod's C(ssh_common_args) (the SSH options for C(ansible_ssh_common_args), with the collection's host-key policy)
      and C(host), the host it is as M(ansible.builtin.add_host) takes it (see RV(funaudiochat.runpod.pod#module:host)).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "3xk2m9q0abcdef", "name": "fac-1", "status": "RUNNING", "gpu": "A40", "ssh_port": 40122}]
"""

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _pods
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _ssh
from ansible_collections.funaudiochat.runpod.plugins.module_utils._module import RunPodModule


def run(rp):
    p = rp.params
    if p["id"]:
        pod = rp.client.get_pod(p["id"])
        pods = [pod] if pod else []
    else:
        pods = rp.client.list_pods()
    statuses = set(s.upper() for s in p["status"])
    selected = []
    for pod in pods:
        if p["name"] is not None and pod.get("name") != p["name"]:
            continue
        if p["name_prefix"] and not (pod.get("name") or "").startswith(p["name_prefix"]):
            continue
        if statuses and pod.get("desiredStatus") not in statuses:
            continue
        summary = _pods.summarize(pod, p["ssh_private_port"])
        summary["ssh_common_args"] = _ssh.ssh_common_args(summary["id"], p["known_hosts_file"])
        summary["host"] = _pods.host_entry(summary, summary["ssh_common_args"])
        selected.append(summary)
    selected.sort(key=lambda item: (item["name"] or "", item["id"]))
    # A pod stopped and started elsewhere (its idle stop, the console) has new host keys.
    _ssh.note_starts(dict((item["id"], item.get("uptime_seconds")) for item in selected), p["known_hosts_file"])
    rp.module.exit_json(changed=False, pods=selected)


def main():
    rp = RunPodModule(
        dict(
            name=dict(type="str"),
            id=dict(type="str"),
            name_prefix=dict(type="str"),
            status=dict(type="list", elements="str", default=[]),
            ssh_private_port=dict(type="int", default=22),
            known_hosts_file=dict(type="str"),
        ),
        ranges=dict(ssh_private_port=(1, 65535)),
        supports_check_mode=True,
    )
    if rp.params["id"]:
        try:
            _client.check_id(rp.params["id"], "id")
        except _client.InvalidValueError as exc:
            rp.fail(str(exc))
    rp.run(run)


if __name__ == "__main__":
    main()
