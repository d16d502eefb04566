"""The home lookup, as a task sees it: the one default, a moved home, a pod of a network volume, its own overrides."""

import yaml

from tests.helpers import run_playbook, task_results


def paths(tmp_path, task_vars, extra_vars=None):
    """What a task gets for each directory, with these play variables (and extra vars)."""
    playbook = tmp_path / "home.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False, "vars": task_vars,
        "tasks": [{"name": "Read the directories", "ansible.builtin.set_fact": {"found": {
            kind: "{{ lookup('funaudiochat.runpod.home', '%s') }}" % kind
            for kind in ("home", "install", "installs", "pod", "pods")}}}]}]))
    rc, out, err = run_playbook(str(playbook), extra_vars=extra_vars)
    assert rc == 0, (out, err)
    return dict(task_results(out, "localhost"))["Read the directories"]["ansible_facts"]["found"]


def test_without_variables_everything_is_under_the_default_home(tmp_path):
    assert paths(tmp_path, {}) == {
        "home": "/workspace/funaudiochat", "install": "/workspace/funaudiochat",
        "installs": "/workspace/funaudiochat/installs", "pod": "/workspace/funaudiochat",
        "pods": "/workspace/funaudiochat/pods"}


def test_a_moved_home_moves_everything_and_a_pod_of_a_network_volume_gets_its_own_directory(tmp_path):
    found = paths(tmp_path, {"runpod_id": "abc123", "runpod_network_volume_id": "vol1",
                             "voice": "/data/voice", "funaudiochat_home": "{{ voice }}"})
    assert found == {"home": "/data/voice", "install": "/data/voice", "installs": "/data/voice/installs",
                     "pod": "/data/voice/pods/abc123", "pods": "/data/voice/pods"}


def test_a_hosts_own_directories_win_and_extra_vars_win_over_them(tmp_path):
    found = paths(tmp_path, {"funaudiochat_pod_home": "/data/mine", "funaudiochat_install_home": "/data/v2",
                             "runpod_network_volume_id": "vol1"},
                  extra_vars={"funaudiochat_home": "/srv/fac"})
    assert (found["pod"], found["install"], found["home"]) == ("/data/mine", "/data/v2", "/srv/fac")


def test_a_pod_of_a_network_volume_without_its_id_and_an_unknown_name_are_one_line_each(tmp_path):
    for task_vars, kind, expected in (({"runpod_network_volume_id": "vol1"}, "pod", "needs its RunPod id (runpod_id)"),
                                      ({}, "logs", "unknown directory 'logs', use one of home, install")):
        playbook = tmp_path / "bad.yml"
        playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "vars": task_vars, "tasks": [
            {"name": "Read", "ansible.builtin.debug": {"msg": "{{ lookup('funaudiochat.runpod.home', '%s') }}" % kind}}]}]))
        rc, out, _err = run_playbook(str(playbook), json_output=False, env={"ANSIBLE_STDOUT_CALLBACK": "default"})
        assert rc != 0 and expected in out, out
