"""Testinfra checks of the deploy scenario's pod: Fun-Audio-Chat converged by the six roles.

The functions run on the controller; ``host`` runs commands on the pod over SSH.
"""

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

HOME = "/workspace/funaudiochat"


def test_supervisor_runs_the_server_the_pruner_the_idle_stop_watcher_and_the_front_door(host):
    status = host.check_output("supervisorctl status")
    assert "funaudiochat                     RUNNING" in status or "funaudiochat RUNNING" in " ".join(status.split())
    assert "funaudiochat-prune-output" in status and "funaudiochat-idle-stop" in status
    assert "funaudiochat-front-door" in status and "funaudiochat-front-door-limit" in status
    assert status.count("RUNNING") == 5


def test_supervisord_and_its_configuration_live_on_the_volume(host):
    # The container disk is wiped at a stop: what the pod's boot script starts again must be on the volume.
    assert host.process.get(comm="supervisord").args.split()[1:] == [
        HOME + "/tools/supervisor/bin/supervisord", "-c", HOME + "/supervisor/supervisord.conf"]
    assert host.file(HOME + "/bin/funaudiochat-boot").mode == 0o755


def test_the_readiness_line_is_in_the_servers_log(host):
    log = host.file(HOME + "/logs/server.log")
    assert log.contains("TTS model loaded successfully")
    assert log.contains("==== funaudiochat-server start")


def test_the_models_are_in_place_and_linked_into_the_app(host):
    for name in ("Fun-Audio-Chat-8B", "Fun-CosyVoice3-0.5B-2512"):
        link = host.file(HOME + "/app/pretrained_models/" + name)
        assert link.is_symlink and link.linked_to == HOME + "/models/" + name
    assert host.file(HOME + "/models/Fun-Audio-Chat-8B/model.safetensors.index.json").is_file
    assert host.file(HOME + "/models/Fun-CosyVoice3-0.5B-2512/cosyvoice3.yaml").is_file


def test_the_server_listens_on_loopback_only(host):
    assert host.socket("tcp://127.0.0.1:8002").is_listening
    assert not host.socket("tcp://0.0.0.0:8002").is_listening


def test_the_front_door_lets_in_the_key_and_no_one_else(host):
    env = dict(line.replace("export ", "", 1).split("=", 1)
               for line in host.file("/etc/rp_environment").content_string.splitlines() if "=" in line)
    url = "ws://%s:%s/api/chat" % (env["RUNPOD_PUBLIC_IP"], env["RUNPOD_TCP_PORT_8010"])
    key_file = host.file(HOME + "/front-door/door.key")
    assert key_file.mode == 0o600 and key_file.user == "root"
    key = key_file.content_string.strip()
    with connect(url, open_timeout=10, additional_headers={"Authorization": "Bearer " + key}) as ws:
        assert ws.recv(timeout=10) == b"\x00\x00\x00"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)
    assert refused.value.response.status_code == 401
