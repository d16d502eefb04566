"""The provision_plan action through ansible-playbook: which pod of an inventory is the fleet's front door, installs
for its network volume and takes its lock, read from the hosts' variables as the inventory plugin sets them."""

import yaml

from tests.helpers import run_playbook, task_results

PLAY = [{"hosts": "runpod", "gather_facts": False, "tasks": [{"name": "Plan", "funaudiochat.runpod.provision_plan": None}]}]


def plans(tmp_path, hosts, **extra_vars):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"runpod": {"hosts": hosts, "vars": {"ansible_connection": "local"}}}))
    playbook = tmp_path / "plan.yml"
    playbook.write_text(yaml.safe_dump(PLAY))
    rc, out, err = run_playbook(str(playbook), inventory=str(inventory), extra_vars=extra_vars)
    assert rc == 0, err
    return dict((host, task_results(out, host)[0][1]["ansible_facts"]) for host in hosts)


def test_a_fleet_on_a_network_volume_has_one_front_door_and_one_installer_and_a_pod_alone_does_both(tmp_path):
    fleet = {"runpod_fleet": "fac", "runpod_network_volume_id": "vol1", "ansible_host": "192.0.2.1"}
    found = plans(tmp_path, {
        "fac-2": dict(fleet, runpod_id="id2"), "fac-1": dict(fleet, runpod_id="id1"),
        "solo": {"runpod_id": "id9", "ansible_host": "192.0.2.9"}})
    assert found["fac-2"]["provision_fleet_pods"] == ["fac-1", "fac-2"]
    assert [found[host]["provision_front_door_host"] for host in ("fac-1", "fac-2", "solo")] == ["fac-1", "fac-1", "solo"]
    assert found["fac-2"]["provision_front_door_home"] == "/workspace/funaudiochat/pods/id1"
    assert [host for host in sorted(found) if found[host]["provision_installs"]] == ["fac-1", "solo"]
    assert [host for host in sorted(found) if found[host]["provision_writer_lock"]] == ["fac-1"]
    assert [host for host in sorted(found) if found[host]["provision_main_door"]] == ["fac-1", "solo"]
    assert not any(found[host]["provision_rolling_turn"] for host in found)


def test_a_chosen_front_door_and_a_rolling_run_are_followed(tmp_path):
    fleet = {"runpod_fleet": "fac", "ansible_host": "192.0.2.1"}
    found = plans(tmp_path, {"fac-1": fleet, "fac-2": fleet}, front_door_host="fac-2", provision_rolling=True,
                  funaudiochat_home="/data/voice")
    assert [found[host]["provision_main_door"] for host in ("fac-1", "fac-2")] == [False, True]
    assert found["fac-1"]["provision_front_door_home"] == "/data/voice"
    assert all(found[host]["provision_rolling_turn"] and not found[host]["provision_writer_lock"] for host in found)
