# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the run variables a playbook was given against their one declaration, before anything is made.

The declaration is module_utils/_run_vars.py. A bad value fails the task in one line naming each bad variable and
what to do (a secret's value is never shown); an -e name close to a known one (a run variable or a role's option,
from the roles' meta/argument_specs.yml) but unknown gets a warning naming the likely one, as it would otherwise
be silently ignored. Runs on the controller; sends nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.vars import load_extra_vars

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _run_vars
from ansible_collections.funaudiochat.runpod.plugins.plugin_utils._role_files import role_options, run_var


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset()

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        given = load_extra_vars(self._loader) or {}
        task_vars = task_vars or {}
        values = {}
        # Wherever they were set: -e, an extra-vars file, the inventory's group_vars.
        for name in _run_vars.BY_NAME:
            if name in task_vars:
                values[name] = run_var(self._templar, task_vars, name)
        for line in _run_vars.unknown(given, set(_run_vars.BY_NAME) | role_options()):
            self._display.warning(line)
        problems = _run_vars.problems(values)
        result["changed"] = False
        result["checked"] = sorted(values)
        if problems:
            result["failed"] = True
            result["msg"] = "; ".join(problems)
        else:
            # A playbook imported by another (prefetch.yml, provision.yml by deploy.yml) checks only once per run.
            result["ansible_facts"] = {"funaudiochat_run_vars_checked": True}
        return result
