"""What a deploy will make (module_utils/_plan.py): the rules deploy.yml carries out."""

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _plan


def test_one_pod_or_a_fleet_of_numbered_pods():
    assert _plan.pod_names() == ("", ["fac-1"])
    assert _plan.pod_names("demo") == ("", ["demo"])
    assert _plan.pod_names(None, 3) == ("fac", ["fac-1", "fac-2", "fac-3"])
    assert _plan.pod_names("demo", "2") == ("demo", ["demo-1", "demo-2"]), "-e pod_count=2 is text"


def test_runpods_backstop_is_max_hours_else_a_day_and_0_turns_it_off():
    assert _plan.backstop_hours() == 24.0
    assert _plan.backstop_hours(None, "1.5") == 1.5
    assert _plan.backstop_hours(None, 0) == 24.0, "max_hours 0 is no cap, not a backstop of 0"
    assert _plan.backstop_hours("0", 3) == 0.0
    assert _plan.backstop_hours(6, 3) == 6.0


def test_the_start_command_runs_the_boot_script_from_the_home_then_runpods_start():
    assert _plan.start_command() == (
        "bash -c 'b=/workspace/funaudiochat/bin/funaudiochat-boot; [ -x $b ] && $b & exec /start.sh'")
    assert "b=/workspace/fac/bin/funaudiochat-boot;" in _plan.start_command(None, "/workspace/fac")
    assert _plan.start_command("") == "", "'' keeps the image's own command"


def test_the_front_door_is_published_and_the_servers_only_without_it():
    assert _plan.pod_ports([8002, 8003]) == ["22/tcp", "8000/http", "8010/tcp"]
    assert _plan.pod_ports([8002, 8003], front_door=False) == ["22/tcp", "8002/tcp", "8003/tcp"]
    assert _plan.pod_ports([], True, "9000", 9010) == ["22/tcp", "9000/http", "9010/tcp"]


def test_the_server_count_follows_the_biggest_gpu_type_the_pod_may_get():
    assert _plan.biggest_gpu_gb([{"memory_gb": 48}, {"memory_gb": 80}, {"memory_gb": None}]) == 80.0
    assert _plan.biggest_gpu_gb([]) == 0


def test_a_smaller_fleet_leaves_out_its_highest_pods_and_never_a_pod_of_another_name():
    found = [{"name": "fac-4", "id": "d", "fleet": "fac"}, {"name": "fac-1", "id": "a", "fleet": "fac"},
             {"name": "fac-3", "id": "c", "fleet": "fac"}, {"name": "fac-3", "id": "b", "fleet": "fac"},
             {"name": "fac-x", "id": "x", "fleet": None}, {"name": "fac-big-4", "id": "y", "fleet": "fac-big"}]
    # Both pods of one name leave (a duplicate the fleet must not keep); others' pods are never named.
    assert _plan.fleet_extra(found, "fac", ["fac-1", "fac-2"]) == [
        {"name": "fac-3", "id": "b"}, {"name": "fac-3", "id": "c"}, {"name": "fac-4", "id": "d"}]
    assert _plan.fleet_extra(found, "fac", ["fac-1", "fac-2", "fac-3", "fac-4"]) == []
