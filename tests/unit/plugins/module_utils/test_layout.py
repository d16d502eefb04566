"""module_utils/_layout.py: the home's one default and the rules under it, which the roles, the playbooks and the
boot script all read (through the home lookup and the pod_home filters)."""

import os
import re

import pytest

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _layout

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")


def test_without_a_home_it_is_the_default_and_every_directory_is_under_it():
    assert _layout.home_dir() == _layout.home_dir("") == "/workspace/funaudiochat"
    assert _layout.pods_dir() == "/workspace/funaudiochat/pods"
    assert _layout.installs_dir("/data/voice/") == "/data/voice/installs"


def test_pods_of_a_network_volume_each_get_their_directory_under_pods_and_a_pod_volume_keeps_the_home():
    assert _layout.pod_home("/data/voice", "abc123", "vol1") == _layout.pods_dir("/data/voice") + "/abc123"
    assert _layout.pod_home("/data/voice", "abc123", "") == "/data/voice"


def test_an_install_on_a_network_volume_is_under_installs_by_what_it_installs():
    settings = {"app_version": "8ba984b", "torch_version": "2.8.0"}
    home = _layout.install_home(None, settings, "vol1")
    assert home == _layout.installs_dir() + "/" + _layout.install_key(settings)
    assert _layout.install_home(None, dict(settings, torch_version="2.9.0"), "vol1") != home
    assert _layout.install_home(None, settings, "") == _layout.DEFAULT_HOME


@pytest.mark.parametrize("home, pod_id, message", [
    ("workspace", "abc123", "must be an absolute path"),
    (None, "", "needs its RunPod id"),
    (None, "../x", "needs its RunPod id"),
])
def test_a_path_it_cannot_make_is_one_error_naming_the_variable(home, pod_id, message):
    with pytest.raises(_layout.LayoutError, match=message):
        _layout.pod_home(home, pod_id, "vol1")


def test_no_role_or_playbook_writes_the_default_home_itself():
    """The default has one owner: a second copy in a role's defaults or a playbook drifts apart from it."""
    copies = []
    for folder in ("roles", "playbooks"):
        for path, _dirs, files in os.walk(os.path.join(ROOT, folder)):
            if os.sep + "meta" in path or os.sep + "files" in path:
                continue  # argument_specs document the rendered defaults; files/ holds scripts the roles pass it to
            for name in files:
                if not name.endswith((".yml", ".j2")):
                    continue
                with open(os.path.join(path, name), encoding="utf-8") as handle:
                    for number, line in enumerate(handle, 1):
                        if re.search(r"/workspace/funaudiochat", line) and not line.lstrip().startswith("#"):
                            copies.append("%s:%d" % (os.path.relpath(os.path.join(path, name), ROOT), number))
    assert copies == []
