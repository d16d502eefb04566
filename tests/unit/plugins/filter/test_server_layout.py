"""The server_layout and server_count filters: how many server processes a pod runs, and on which GPU."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.funaudiochat.runpod.plugins.filter.server_layout import server_count, server_layout, server_ports

# nvidia-smi's memory.total / 1024, and RunPod's memoryInGb, for the GPU types users pick.
A40 = 48
A40_SMI = 46068 / 1024
H100 = 80
H100_SMI = 81559 / 1024
H200 = 141
RTX4090 = 24


@pytest.mark.parametrize("gpus, expected", [
    ([A40], 1), ([A40_SMI], 1), ([H100], 2), ([H100_SMI], 2), ([H200], 5), ([RTX4090], 1),
    ([A40, A40], 2), ([H100, H100], 4), ([RTX4090, RTX4090], 1), ([], 1)])
def test_the_count_follows_each_gpus_memory_with_the_margin(gpus, expected):
    assert server_count(gpus) == expected
    assert len(server_layout(gpus)) == expected


def test_one_process_keeps_todays_names_and_sees_every_gpu():
    assert server_layout([A40]) == [{
        "index": 1, "port": 8002, "suffix": "", "cuda_visible_devices": "", "tts_gpu": 0, "program": "funaudiochat",
        "log": "/workspace/funaudiochat/logs/server.log", "output_dir": "/workspace/funaudiochat/output"}]
    assert server_layout([RTX4090, RTX4090])[0]["tts_gpu"] == 1  # the TTS worker on the second GPU, as upstream
    assert server_layout([RTX4090, RTX4090], tts_gpu="0")[0]["tts_gpu"] == 0
    assert server_layout([A40], base_port=9000)[0]["port"] == 9000


def test_several_processes_are_pinned_one_gpu_each_in_turn():
    layout = server_layout([H100, H100])
    assert [p["port"] for p in layout] == [8002, 8003, 8004, 8005]
    assert [p["suffix"] for p in layout] == ["", "-2", "-3", "-4"]
    assert [p["program"] for p in layout] == ["funaudiochat", "funaudiochat-2", "funaudiochat-3", "funaudiochat-4"]
    assert layout[1]["log"].endswith("/logs/server-2.log") and layout[1]["output_dir"].endswith("/output-2")
    assert [p["cuda_visible_devices"] for p in layout] == ["0", "1", "0", "1"]
    assert {p["tts_gpu"] for p in layout} == {0}  # the one GPU each process sees


def test_an_explicit_count_fills_gpus_with_room_first_then_overcommits_in_turn():
    assert [p["cuda_visible_devices"] for p in server_layout([H100, A40], count=3)] == ["0", "1", "0"]
    assert [p["cuda_visible_devices"] for p in server_layout([A40, A40], count=3)] == ["0", "1", "0"]
    assert [p["cuda_visible_devices"] for p in server_layout([A40], count=2)] == ["0", "0"]
    assert len(server_layout([H200], count=1)) == 1


def test_bad_values_are_one_clear_error():
    with pytest.raises(AnsibleFilterError, match="per_server_gb must be above 0"):
        server_layout([A40], per_server_gb=0)
    with pytest.raises(AnsibleFilterError, match="a GPU's memory must be a number"):
        server_layout(["lots"])
    with pytest.raises(AnsibleFilterError, match="5 servers from port 65533 do not fit below 65536"):
        server_layout([H200], base_port=65533)


def test_ten_servers_skip_the_front_doors_ports_and_what_runpods_images_listen_on():
    # Two H200s (141 GB each) hold 10 servers: past 8009 they would run into the front door's 8010.
    layout = server_layout([141, 141], 28, reserved_ports=[8000, 8010, 8020])
    ports = [entry["port"] for entry in layout]
    assert ports == [8002, 8003, 8004, 8005, 8006, 8007, 8008, 8009, 8011, 8012]
    # nginx in RunPod's images listens on 8001 (and 3001, 7270, 7861, 8081, 9091): skipped whatever is reserved.
    assert server_ports(8000, 3) == [8000, 8002, 8003]
    assert server_ports(8002, 3, [8003]) == [8002, 8004, 8005]
