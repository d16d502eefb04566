"""Testinfra checks of the deploy scenario's pod: Fun-Audio-Chat converged by the six roles.

The functions run on the controller; ``host`` runs commands on the pod over SSH.
"""

from websockets.sync.client import connect

HOME = "/workspace/funaudiochat"


def test_supervisor_runs_the_server_the_pruner_and_the_idle_stop_watcher(host):
    status = host.check_output("supervisorctl status")
    assert "funaudiochat                     RUNNING" in status or "funaudiochat RUNNING" in " ".join(status.split())
    assert "funaudiochat-prune-output" in status and "funaudiochat-idle-stop" in status
    assert status.count("RUNNING") == 3


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


def test_the_server_listens_on_all_interfaces(host):
    assert host.socket("tcp://0.0.0.0:8002").is_listening


def test_a_websocket_handshake_from_the_controller(host):
    env = dict(line.replace("export ", "", 1).split("=", 1)
               for line in host.file("/etc/rp_environment").content_string.splitlines() if "=" in line)
    url = "ws://%s:%s/api/chat" % (env["RUNPOD_PUBLIC_IP"], env["RUNPOD_TCP_PORT_8002"])
    with connect(url, open_timeout=10) as ws:
        assert ws.recv(timeout=10) == b"\x00\x00\x00"
