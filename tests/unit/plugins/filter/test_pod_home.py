"""The pod_home filter: where a pod keeps its own files, so pods sharing a network volume never share them."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.funaudiochat.runpod.plugins.filter.pod_home import host_pod_home, install_home, pod_home

HOME = "/workspace/funaudiochat"


def test_a_pod_on_its_own_volume_keeps_its_files_in_the_home():
    assert pod_home(HOME, "abc123", "") == HOME
    assert pod_home(HOME + "/", "abc123") == HOME


def test_pods_on_one_network_volume_each_get_their_own_directory_under_the_home():
    first, second = pod_home(HOME, "abc123", "vol1"), pod_home(HOME, "def456", "vol1")
    assert first == HOME + "/pods/abc123" and second == HOME + "/pods/def456"


@pytest.mark.parametrize("pod_id", ["", None, "../x", ".."])
def test_a_pod_on_a_network_volume_without_a_usable_id_is_one_clear_error(pod_id):
    with pytest.raises(AnsibleFilterError, match="needs its RunPod id"):
        pod_home(HOME, pod_id, "vol1")


def test_a_relative_home_is_refused():
    with pytest.raises(AnsibleFilterError, match="absolute path"):
        pod_home("workspace", "abc123", "vol1")


def test_another_hosts_directory_follows_its_own_variables():
    assert host_pod_home({"runpod_id": "def456", "runpod_network_volume_id": "vol1"}, HOME) == HOME + "/pods/def456"
    assert host_pod_home({"runpod_id": "def456"}, HOME) == HOME
    assert host_pod_home({"funaudiochat_pod_home": "/data/mine", "runpod_network_volume_id": "vol1"}, HOME) == "/data/mine"
    with pytest.raises(AnsibleFilterError, match="host_pod_home: expected a host's variables"):
        host_pod_home("fac-2", HOME)


SETTINGS = {"torch_version": "2.8.0", "app_version": "8ba984b", "app_extra_packages": ["opuslib"]}


def test_on_a_pod_volume_the_install_is_the_home():
    assert install_home(HOME, SETTINGS, "") == HOME


def test_on_a_network_volume_the_install_is_keyed_by_what_is_installed():
    here = install_home(HOME, SETTINGS, "vol1")
    assert here.startswith(HOME + "/installs/") and len(here.rsplit("/", 1)[1]) == 12
    # The same settings in another order: the same install, for every pod of the volume.
    assert install_home(HOME, dict(reversed(list(SETTINGS.items()))), "vol1") == here
    # A changed version goes beside it.
    assert install_home(HOME, dict(SETTINGS, app_version="next"), "vol1") != here
    assert install_home(HOME, dict(SETTINGS, app_extra_packages=["opuslib", "x"]), "vol1") != here


def test_install_home_refuses_what_it_cannot_key():
    with pytest.raises(AnsibleFilterError, match="must be a mapping"):
        install_home(HOME, "8ba984b", "vol1")
    with pytest.raises(AnsibleFilterError, match="absolute path"):
        install_home("workspace", SETTINGS, "vol1")
