"""The s2s_report callback in-process: which stage a task belongs to, and the order stages are reported in."""

from ansible_collections.funaudiochat.runpod.plugins.callback.s2s_report import _in_order, _stage


class _Role:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class _Task:
    """The attributes of an Ansible task the callback reads to place it in a stage."""

    def __init__(self, action, role=None, args=None):
        self.action, self._role, self.args = action, _Role(role) if role else None, args or {}


def test_every_role_of_the_collection_is_a_stage_even_one_the_report_does_not_know():
    assert _stage(_Task("ansible.builtin.command", "funaudiochat.runpod.models")) == "models"
    assert _stage(_Task("ansible.builtin.command", "funaudiochat.runpod.fleet")) == "fleet"  # a new role
    assert _stage(_Task("ansible.builtin.command", "geerlingguy.docker")) is None  # not ours
    assert _stage(_Task("funaudiochat.runpod.network_volume")) == "pod"
    assert _stage(_Task("funaudiochat.runpod.s2s_check")) == "verify"
    assert _stage(_Task("funaudiochat.runpod.s2s_check", args={"handshake_only": True})) is None
    # Deployment order, whatever order the run reached them in (the disk check runs models' tasks first).
    reached = dict.fromkeys(["models", "pod", "fleet", "system_deps", "verify", "cache"], 1.0)
    assert _in_order(reached) == ["pod", "system_deps", "models", "verify", "fleet", "cache"]
