# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the controller-side plugins read of the collection's roles and of a run's variables.

The roles own their options (meta/argument_specs.yml) and their defaults (defaults/main.yml); the action plugins
read them here rather than keeping copies, and read a run variable the way a task would see it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import glob
import os

from ansible.module_utils.six import string_types

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")


def _load(path):
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


@functools.lru_cache(maxsize=None)
def role_defaults(role):
    """roles/<role>/defaults/main.yml, read once per process."""
    return _load(os.path.join(ROLES, role, "defaults", "main.yml"))


def role_default(role, name):
    """A role's literal default for ``name``: what the role uses when nobody sets it."""
    return role_defaults(role)[name]


def role_options():
    """Every option of every entry point of every role of the collection, from their argument specs."""
    names = set()
    for path in glob.glob(os.path.join(ROLES, "*", "meta", "argument_specs.yml")):
        try:
            specs = _load(path).get("argument_specs") or {}
        except (IOError, OSError, ValueError, AttributeError):
            continue
        for entry in specs.values():
            names.update((entry or {}).get("options") or {})
    return names


def run_var(templar, task_vars, name, default=None):
    """A run variable as a task sees it (a string holding a template is templated), or ``default`` when unset."""
    if name not in task_vars:
        return default
    value = task_vars[name]
    if isinstance(value, string_types) and "{{" in value:
        value = templar.template(value)
    return value
