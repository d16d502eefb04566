"""What the action plugins read of the roles: their defaults and options, from the roles' own files."""

import glob
import os

import yaml

from ansible_collections.funaudiochat.runpod.plugins.plugin_utils import _role_files

from tests.helpers import REPO_ROOT


def test_a_roles_default_is_the_one_in_its_defaults_file():
    with open(os.path.join(REPO_ROOT, "roles", "front_door", "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    assert _role_files.role_default("front_door", "front_door_http_port") == defaults["front_door_http_port"] == 8000
    assert _role_files.role_default("front_door", "front_door_users") == []


def test_every_roles_every_default_is_a_declared_option():
    # A default missing from meta/argument_specs.yml would be unknown to the run-variable check's "did you mean".
    options = _role_files.role_options()
    for path in glob.glob(os.path.join(REPO_ROOT, "roles", "*", "defaults", "main.yml")):
        role = path.split(os.sep)[-3]
        missing = sorted(set(_role_files.role_defaults(role)) - options)
        assert missing == [], "%s: defaults without an argument spec: %s" % (role, missing)


class _Templar:
    def template(self, value):
        return value.replace("{{ home }}", "/workspace/x")


def test_a_run_variable_reads_as_a_task_sees_it():
    task_vars = {"plain": 3, "templated": "{{ home }}/logs"}
    assert _role_files.run_var(_Templar(), task_vars, "plain") == 3
    assert _role_files.run_var(_Templar(), task_vars, "templated") == "/workspace/x/logs"
    assert _role_files.run_var(_Templar(), task_vars, "unset", default="d") == "d"
