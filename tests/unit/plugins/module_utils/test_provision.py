"""module_utils/_provision.py: which pod of a provision run is the fleet's front door, installs for its network
volume, takes the writer lock, and leaves the front door for its turn."""

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _provision

HOSTS = {
    "fac-2": {"fleet": "fac", "reachable": True},
    "fac-1": {"fleet": "fac", "reachable": True},
    "fac-3": {"fleet": "fac", "reachable": False},  # made, but no SSH address yet: not served by the door
    "other-1": {"fleet": "other", "reachable": True},
    "solo": {"fleet": None, "reachable": True},
}


def test_a_fleet_pod_is_with_its_reachable_fleet_by_name_and_a_pod_in_no_fleet_is_alone():
    assert _provision.fleet_pods("fac-2", "fac", HOSTS) == ["fac-1", "fac-2"]
    assert _provision.fleet_pods("solo", None, HOSTS) == ["solo"]
    assert _provision.fleet_pods("other-1", "other", HOSTS) == ["other-1"]


def test_the_front_door_is_the_fleets_first_pod_unless_one_is_chosen():
    assert _provision.front_door_host("fac-2", ["fac-1", "fac-2"]) == "fac-1"
    assert _provision.front_door_host("fac-2", ["fac-1", "fac-2"], "fac-2") == "fac-2"
    assert _provision.front_door_host("solo", []) == "solo"


def test_of_the_pods_sharing_a_network_volume_the_first_by_name_installs_and_a_pod_alone_installs_for_itself():
    batch = {"fac-3": "vol1", "fac-2": "vol1", "cache-1": "vol2", "solo": ""}
    assert [host for host in sorted(batch) if _provision.installs(host, batch[host], batch)] == ["cache-1", "fac-2", "solo"]


def test_only_the_installer_takes_the_writer_lock_on_a_network_volume_or_when_asked():
    assert _provision.writer_lock(True, "vol1") is True
    assert _provision.writer_lock(False, "vol1") is False
    assert _provision.writer_lock(True, "") is False
    assert _provision.writer_lock(True, "", volume_lock=True) is True
    assert _provision.writer_lock(True, "vol1", volume_lock=False) is False


def test_a_rolling_turn_needs_a_front_door_and_is_never_taken_in_check_mode():
    assert _provision.rolling_turn(True, True, False) is True
    assert _provision.rolling_turn(True, False, False) is False
    assert _provision.rolling_turn(True, True, True) is False
    assert _provision.rolling_turn(False, True, False) is False
