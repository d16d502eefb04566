#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: provision_plan
short_description: Work out which pod does what in a provision run, before any pod is touched
version_added: 0.2.0
description:
  - Run on each pod of C(playbooks/provision.yml) before anything else; sets, per pod, what the playbook's steps
    follow.
  - The pods of its fleet (C(runpod_fleet)) in the inventory group C(runpod) that answer over SSH, by name; a pod in
    no fleet is alone.
  - The pod whose front door is the fleet's - C(front_door_host) when set, else the fleet's first pod by name - and
    that pod's own directory (P(funaudiochat.runpod.pod_home#filter) of its variables).
  - Whether this pod installs the shared part (torch, the app, the models) - a pod alone on its volume does; of the
    pods of the play's batch that mount one network volume (C(runpod_network_volume_id)), the first by name does,
    and the others use its install.
  - Whether it takes the volume's writer lock (the installer on a network volume, or on any volume with
    C(provision_volume_lock=true)) and whether its servers leave the front door for its turn (C(provision_rolling),
    with a front door, not in check mode).
  - Runs on the controller as an action plugin and changes nothing. The rules are in
    C(plugins/module_utils/_provision.py).
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
options: {}
extends_documentation_fragment:
  - funaudiochat.runpod.attributes.info_module
"""

EXAMPLES = r"""
- name: Work out which pod does what
  funaudiochat.runpod.provision_plan:

- name: Install torch on the pod that installs for its network volume
  when: provision_installs | bool
  ansible.builtin.import_role:
    name: funaudiochat.runpod.torch
"""

RETURN = r"""
ansible_facts:
  description: What this pod does in the run.
  returned: success
  type: dict
  contains:
    provision_fleet_pods:
      description: The pods of its fleet that answer over SSH, by name; only itself outside a fleet.
      type: list
      elements: str
    provision_front_door_host:
      description: The pod whose front door is the fleet's.
      type: str
    provision_front_door_home:
      description: That pod's own directory on its volume.
      type: str
    provision_main_door:
      description: Whether this pod's front door is the fleet's.
      type: bool
    provision_installs:
      description: Whether this pod installs the shared part (torch, the app, the models).
      type: bool
    provision_writer_lock:
      description: Whether this pod takes the volume's writer lock.
      type: bool
    provision_rolling_turn:
      description: Whether this pod's servers leave the front door for its turn.
      type: bool
  sample: {"provision_fleet_pods": ["fac-1", "fac-2"], "provision_front_door_host": "fac-1",
           "provision_front_door_home": "/workspace/funaudiochat/pods/abc123", "provision_main_door": false,
           "provision_installs": false, "provision_writer_lock": false, "provision_rolling_turn": false}
msg:
  description: The plan in one line.
  returned: success
  type: str
  sample: "fac-2: front door on fac-1, uses the install of fac-1"
"""
