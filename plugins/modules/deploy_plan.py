#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: deploy_plan
short_description: Work out what a deploy will make, before anything is made
version_added: 0.2.0
description:
  - Reads the run's variables as C(playbooks/deploy.yml) takes them (C(pod_name), C(pod_count), C(gpu), C(gpu_count),
    C(servers_per_pod), C(front_door), C(ports), C(backstop_hours), C(max_hours), C(start_command),
    C(funaudiochat_home), and the roles' C(server_port), C(server_gpu_memory_gb), C(server_reserved_ports),
    C(front_door_http_port), C(front_door_tcp_port) and C(front_door_web_port), which fall back on the roles' own
    defaults) and sets the plan as facts.
  - The pods' names, one pod or a fleet C(<pod_name>-1) .. C(-N); the GPU types tried; RunPod's backstop
    (C(stopAfter)) in hours; the start command (the boot script on the volume, then RunPod's C(/start.sh)); the
    number of servers per pod (one per C(server_gpu_memory_gb) of the biggest GPU type's memory, asked of
    M(funaudiochat.runpod.gpu_info), or C(servers_per_pod)); the ports (SSH's and the front door's, or each
    server's own without a front door); and, for a fleet, the pods a lower C(pod_count) leaves out (asked of
    M(funaudiochat.runpod.pod_info); pods named otherwise are never looked at).
  - Runs on the controller as an action plugin and changes nothing. The rules are in
    C(plugins/module_utils/_plan.py).
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
options: {}
extends_documentation_fragment:
  - funaudiochat.runpod.attributes.info_module
"""

EXAMPLES = r"""
- name: Work out the pods, their ports and start command
  funaudiochat.runpod.deploy_plan:

- name: Make them
  funaudiochat.runpod.pod:
    name: "{{ item }}"
    gpu: "{{ fac_gpu }}"
    ports: "{{ fac_ports }}"
    start_command: "{{ fac_start_command | default(omit, true) }}"
    stop_after_hours: "{{ fac_backstop_hours }}"
  loop: "{{ fac_pod_names }}"
"""

RETURN = r"""
ansible_facts:
  description: The plan.
  returned: success
  type: dict
  contains:
    fac_fleet:
      description: The fleet's name; empty for a single pod.
      type: str
    fac_pod_names:
      description: The pods' names.
      type: list
      elements: str
    fac_gpu:
      description: The GPU types tried, in order.
      type: raw
    fac_backstop_hours:
      description: Hours after its creation at which RunPod stops each pod this run makes; 0 for none.
      type: float
    fac_start_command:
      description: The pods' start command; empty to keep the image's own.
      type: str
    fac_server_total:
      description: Server processes per pod.
      type: int
    fac_ports:
      description: The ports each pod is made with.
      type: list
      elements: str
    fac_fleet_extra:
      description: The fleet's pods (C(name), C(id)) beyond C(pod_count).
      type: list
      elements: dict
    fac_fleet_size:
      description: How many pods the fleet has now (those beyond C(pod_count) included).
      type: int
  sample: {"fac_fleet": "", "fac_pod_names": ["fac-1"], "fac_gpu": ["A40"], "fac_backstop_hours": 24.0,
           "fac_server_total": 1, "fac_ports": ["22/tcp", "8000/http", "8010/tcp"], "fac_fleet_extra": [],
           "fac_fleet_size": 1,
           "fac_start_command": "bash -c 'b=/workspace/funaudiochat/bin/funaudiochat-boot; [ -x $b ] && $b & exec /start.sh'"}
msg:
  description: The plan in one line.
  returned: success
  type: str
  sample: "fac-1: 1 server(s) per pod, ports 22/tcp, 8000/http, 8010/tcp"
"""
