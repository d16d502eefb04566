#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: check_run_vars
short_description: Check a playbook's run variables before anything is made
version_added: 0.2.0
description:
  - Checks the variables the run was given with C(-e) (or an AWX extra-vars file) that the collection's playbooks
    read (C(pod_count), C(idle_stop_minutes), C(max_hours), C(backstop_hours), C(front_door_key), ...) against their
    one declaration (type, bounds, choices; C(plugins/module_utils/_run_vars.py), the source of C(docs/variables.md)'s table
    of C(deploy.yml)'s variables).
  - A bad value fails the task in one line, naming each bad variable and what to do; a secret's value
    (C(front_door_key), C(hf_token)) is never shown. A C(pod_count) above C(pod_count_cap) needs C(confirm=yes).
  - An C(-e) name that the collection does not read but that is close to one it does (a run variable, or an option
    of one of its roles) gets a warning naming the likely one, as a typo would otherwise be silently ignored.
  - Runs on the controller as an action plugin, sends nothing and changes nothing. The playbooks run it first; it
    sets the fact C(funaudiochat_run_vars_checked), so a playbook another imports checks once per run.
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
options: {}
extends_documentation_fragment:
  - funaudiochat.runpod.attributes.info_module
"""

EXAMPLES = r"""
- name: Check the request before any pod is made
  funaudiochat.runpod.check_run_vars:
"""

RETURN = r"""
ansible_facts:
  description: C(funaudiochat_run_vars_checked) true, when every value was good.
  returned: success
  type: dict
  sample: {"funaudiochat_run_vars_checked": true}
checked:
  description: The run variables given with C(-e) that were checked.
  returned: always
  type: list
  elements: str
  sample: [idle_stop_minutes, pod_count]
"""
