"""The server role's idle-stop watcher (roles/server/files/funaudiochat_idle_stop.py), run as supervisord runs it.

Here it runs on this machine against the memory sandbox API, with a sandbox pod's own key in the environment
as RunPod puts it in a pod: what it counts as a session (a connection open for more than a poll), when it
stops the pod (idle, or the max_hours cap), and what it says when the key is refused.
"""

import json
import os
import socket
import subprocess
import sys
import time

from tests.sandbox.control import REPO_ROOT

WATCHER = os.path.join(REPO_ROOT, "roles", "server", "files", "funaudiochat_idle_stop.py")
IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"


def start_watcher(tmp_path, sandbox, pod_id, key, ports=(), **config):
    ports_file = tmp_path / "ports.json"
    ports_file.write_text(json.dumps({"ports": list(ports)}))
    settings = dict(idle_stop_minutes=0, max_hours=0, port_files=[str(ports_file)], poll_seconds=0.2,
                    state_seconds=0.2, retry_minutes=10, state_file=str(tmp_path / "state.json"))
    settings.update(config)
    (tmp_path / "config.json").write_text(json.dumps(settings))
    env = dict(os.environ, RUNPOD_POD_ID=pod_id, RUNPOD_API_KEY=key, RUNPOD_API_BASE_URL=sandbox.url,
               PATH="/nonexistent")  # no runpodctl here: the GraphQL way alone
    return subprocess.Popen([sys.executable, WATCHER, str(tmp_path / "config.json")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def state(tmp_path):
    try:
        return json.loads((tmp_path / "state.json").read_text())
    except (OSError, ValueError):
        return {}


def a_pod(sdk, sandbox, name):
    pod_id = sdk.create_pod(name, IMAGE, "NVIDIA A40", ports="22/tcp")["id"]
    return pod_id, sandbox.admin("GET", "state")["state"]["pods"][pod_id]["podApiKey"]


def test_an_open_conversation_keeps_the_pod_and_the_pod_stops_itself_once_it_ends(sdk, sandbox, tmp_path):
    pod_id, key = a_pod(sdk, sandbox, "idle-watch")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _peer = server.accept()
    # 0.05 min = 3 s without a session; a conversation is held open for twice that.
    watcher = start_watcher(tmp_path, sandbox, pod_id, key, ports=[port], idle_stop_minutes=0.05)
    try:
        assert wait_for(lambda: state(tmp_path).get("sessions") == 1)
        time.sleep(6)  # twice the idle limit, the conversation open all along
        assert sdk.get_pod(pod_id)["desiredStatus"] == "RUNNING"
        client.close()
        accepted.close()
        closed = time.monotonic()
        # The front door's health checks go on (a connect, closed at once, every 0.1 s): no session, so the
        # pod stops while they go on, about the idle limit after the conversation ended.
        while sdk.get_pod(pod_id)["desiredStatus"] == "RUNNING":
            assert time.monotonic() - closed < 15, "health checks kept the idle pod running"
            socket.create_connection(("127.0.0.1", port)).close()
            server.accept()[0].close()
            time.sleep(0.1)
        # The idle clock starts at the last poll that saw the session, up to a poll (0.2 s) before the close.
        assert 3 - 0.2 <= time.monotonic() - closed < 15
        assert state(tmp_path)["reason"].startswith("no session for")
    finally:
        watcher.kill()
        output = watcher.communicate()[0]
        server.close()
    assert "1 session(s) open" in output and "no session open; the pod stops at" in output
    assert "stopping pod %s through RunPod's API" % pod_id in output
    assert "RunPod took the stop" in output


def test_an_ansible_runs_ssh_connection_keeps_the_pod_only_while_its_hold_is_there(sdk, sandbox, tmp_path):
    pod_id, key = a_pod(sdk, sandbox, "idle-hold")
    sshd = socket.socket()  # stands in for the pod's sshd: the watcher is told its port
    sshd.bind(("127.0.0.1", 0))
    sshd.listen(8)
    ssh_port = sshd.getsockname()[1]
    hold = tmp_path / "idle-stop.hold"
    hold.write_text('{"play": "Bring up Fun-Audio-Chat on the pods"}\n')
    client = socket.create_connection(("127.0.0.1", ssh_port))
    accepted, _peer = sshd.accept()
    watcher = start_watcher(tmp_path, sandbox, pod_id, key, idle_stop_minutes=0.05, hold_file=str(hold),
                            ssh_ports=[ssh_port])
    try:
        assert wait_for(lambda: state(tmp_path).get("held") and state(tmp_path).get("session_ports") == [ssh_port])
        time.sleep(6)  # twice the idle limit, with a run's SSH connection open and its hold there
        assert sdk.get_pod(pod_id)["desiredStatus"] == "RUNNING"
        # The run is over (it removed the hold); the same SSH connection (a shell left open, a status
        # check) no longer keeps the pod.
        hold.unlink()
        removed = time.monotonic()
        assert wait_for(lambda: sdk.get_pod(pod_id)["desiredStatus"] == "EXITED", timeout=15)
        assert time.monotonic() - removed >= 3 - 0.2
        assert state(tmp_path)["held"] is False
    finally:
        watcher.kill()
        output = watcher.communicate()[0]
        client.close()
        accepted.close()
        sshd.close()
    assert "an Ansible run works on the pod: its SSH connections count as sessions" in output
    assert "the Ansible run is over: SSH connections no longer count" in output


def test_the_max_hours_cap_stops_a_busy_pod(sdk, sandbox, tmp_path):
    pod_id, key = a_pod(sdk, sandbox, "idle-cap")
    # This machine's first process started long before 0.0001 h (0.36 s) ago.
    watcher = start_watcher(tmp_path, sandbox, pod_id, key, max_hours=0.0001)
    try:
        assert wait_for(lambda: sdk.get_pod(pod_id)["desiredStatus"] == "EXITED")
    finally:
        watcher.kill()
        output = watcher.communicate()[0]
    assert "the max_hours cap: stopping pod %s" % pod_id in output


def test_a_refused_key_is_said_plainly_and_the_pod_keeps_running(sdk, sandbox, tmp_path):
    pod_id, _key = a_pod(sdk, sandbox, "idle-refused")
    _other, other_key = a_pod(sdk, sandbox, "idle-neighbour")
    watcher = start_watcher(tmp_path, sandbox, pod_id, other_key, max_hours=0.0001)
    try:
        assert wait_for(lambda: (state(tmp_path).get("last_error") or "").startswith("GraphQL podStop: HTTP 403"))
    finally:
        watcher.kill()
        output = watcher.communicate()[0]
    assert sdk.get_pod(pod_id)["desiredStatus"] == "RUNNING"
    assert "may only act on pod" in state(tmp_path)["last_error"]
    assert "runpodctl pod stop" in state(tmp_path)["last_error"]  # the second way, tried and named
    assert "could not stop the pod" in output and "set idle_stop_minutes: 0; trying again in 10 min" in output


def stops_the_pod_and_lives(watcher, sdk, pod_id):
    """Wait until the watcher stopped the pod, check it is still running itself; its output."""
    try:
        assert wait_for(lambda: sdk.get_pod(pod_id)["desiredStatus"] == "EXITED")
        assert watcher.poll() is None, "the watcher died"
    finally:
        watcher.kill()
        output = watcher.communicate()[0]
    return output


def test_a_garbage_answer_from_runpod_is_a_failed_stop_and_the_next_try_stops_the_pod(sdk, sandbox, tmp_path):
    pod_id, key = a_pod(sdk, sandbox, "idle-garbage")
    # Answers that are not GraphQL's: a JSON list, then a proxy's HTML page. Each is one failed try.
    sandbox.fault(kind="body", body="[1, 2]", operation="podStop")
    sandbox.fault(kind="body", body="<html>502 Bad Gateway</html>", status=502, operation="podStop")
    watcher = start_watcher(tmp_path, sandbox, pod_id, key, max_hours=0.0001, retry_minutes=0.01)
    output = stops_the_pod_and_lives(watcher, sdk, pod_id)
    assert "RunPod answered [1, 2], not a GraphQL answer" in output
    assert "GraphQL podStop: HTTP 502 <html>502 Bad Gateway</html>" in output
    assert "RunPod took the stop" in output


def test_an_unwritable_state_file_or_garbled_port_files_do_not_stop_the_watcher(sdk, sandbox, tmp_path):
    pod_id, key = a_pod(sdk, sandbox, "idle-full")
    (tmp_path / "garbled.json").write_text('{"ports": ["x", null, {"port": 1}]}')
    (tmp_path / "list.json").write_text('[{"port": "eighty"}, 7]')
    # A state file in a directory that does not exist: every write fails, as on a full or read-only volume.
    watcher = start_watcher(tmp_path, sandbox, pod_id, key, idle_stop_minutes=0.02,
                            state_file=str(tmp_path / "gone" / "state.json"),
                            port_files=[str(tmp_path / "garbled.json"), str(tmp_path / "list.json")])
    output = stops_the_pod_and_lives(watcher, sdk, pod_id)
    assert output.count("cannot write %s" % (tmp_path / "gone" / "state.json")) == 1, output
    assert "stopping pod %s through RunPod's API" % pod_id in output and "RunPod took the stop" in output
