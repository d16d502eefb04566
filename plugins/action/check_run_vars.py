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

import glob
import os

from ansible.plugins.action import ActionBase
from ansible.utils.vars import load_extra_vars
from ansible.module_utils.six import string_types

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _run_vars

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")


def role_options():
    """Every option of every role of the collection, from their argument specs."""
    names = set()
    for path in glob.glob(os.path.join(ROLES, "*", "meta", "argument_specs.yml")):
        try:
            with open(path) as handle:
                specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
        except (IOError, OSError, ValueError, AttributeError):
            continue
        for entry in specs.values():
            names.update((entry or {}).get("options") or {})
    return names


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
                value = task_vars[name]
                if isinstance(value, string_types) and "{{" in value:
                    value = self._templar.template(value)
                values[name] = value
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
