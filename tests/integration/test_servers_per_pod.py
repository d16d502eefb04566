"""Several server processes on one pod behind one front door: deploy.yml on a sandbox H100 SXM (80 GB: two
servers of 28 GB), with HAProxy from the pod's apt as RunPod pods get it.

Upstream's server holds one conversation per process (the stand-in loses reply audio when two sessions share
one, tests/integration/test_app_standin.py), so a pod serves as many people at once as it runs servers. What
users rely on: deploy.yml publishes SSH's port and the front door's only, starts each server under supervisord
on loopback with its own log and output directory, checks and talks to every one through the front door by
name, and to all of them at once, and the report says so; through the front door each conversation with the
door's key gets a server of its own and a whole reply, one more waits for a free server, one more than the queue
holds gets "busy", and with no server up the answer says so, while a stranger without the key (or a team member's
name and password) gets HTTP 401 and no queue slot; fewer servers asked for later removes the extra ones.
"""

import base64
import json
import threading
import time

import pytest
import sphn
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s

from tests.helpers import door_key, made_pods, question, run_module, run_playbook, ssh, stats, task_results

HOME = "/workspace/funaudiochat"
NAME = "fac-servers"
# A team member with a name and a password (front_door_users: HTTP basic auth beside the key).
USER, PASSWORD = "bob", "a long enough password"
# Sessions waiting in the front door's queue: qcur of the backend, from HAProxy's admin socket ("show stat" CSV).
QUEUED = """python3 -c '
import socket
sock = socket.socket(socket.AF_UNIX)
sock.connect("/run/funaudiochat-front-door.sock")
sock.sendall(b"show stat\\n")
data = b""
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    data += chunk
for line in data.decode().splitlines():
    fields = line.split(",")
    if fields[:2] == ["servers", "BACKEND"]:
        print(fields[2])
'"""


def deploy(stack, tmp_path, tags=None, **extra):
    env = stack.env()
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    extra.setdefault("front_door_users", [{"name": USER, "password": PASSWORD}])
    extra_vars = stack.deploy_vars(pod_name=NAME, gpu="H100-SXM", volume_gb=20, **extra)
    rc, out, err = run_playbook("playbooks/deploy.yml", extra_vars=extra_vars, env=env, tags=tags)
    failed = [(name, result.get("msg") or result) for host in ("localhost", NAME)
              for name, result in task_results(out, host) if result.get("failed")]
    assert rc == 0, (failed, err[-3000:])
    return out, json.loads(report.read_text())[NAME]


def basic_auth(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def spoken_turn(ws):
    """One question on an open session; the seconds of reply audio heard."""
    for page in _s2s.opus_pages(question()):
        ws.send(bytes([_s2s.KIND_AUDIO]) + page)
    ws.send(_s2s.PAUSE)
    reader, samples = sphn.OpusStreamReader(_s2s.SAMPLE_RATE), 0
    while True:
        try:
            frame = ws.recv(timeout=3)
        except TimeoutError:
            return samples / _s2s.SAMPLE_RATE
        if frame[0] == _s2s.KIND_AUDIO:
            samples += len(reader.append_bytes(frame[1:]))


def at_once(urls, key):
    """One spoken turn per URL, all started together; the results in URL order."""
    results = [None] * len(urls)
    start = threading.Barrier(len(urls))

    def talk(index):
        start.wait()
        results[index] = _s2s.converse(urls[index], question(), expect=["Paris"], idle_seconds=1.0, door_key=key)
    threads = [threading.Thread(target=talk, args=(index,)) for index in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def test_a_pod_runs_one_server_per_28_gb_and_each_holds_a_conversation(sandbox_stack, tmp_path):
    stack = sandbox_stack
    try:
        out, written = deploy(stack, tmp_path)
        pod = made_pods(out)[NAME]
        key = door_key(stack, NAME)
        auth = {"Authorization": "Bearer " + key}
        # SSH's and the front door's TCP port, no server's (the door's HTTP port goes through RunPod's proxy).
        assert sorted(pod["ports"]) == ["22", "8010"], pod["ports"]

        def on_pod(command):
            proc = ssh(pod["ssh_host"], pod["ssh_port"], stack.ssh_key, command)
            assert proc.returncode == 0, proc.stderr
            return proc.stdout

        servers = json.loads(on_pod("cat %s/servers.json" % HOME))
        assert [(s["program"], s["port"], s["cuda_visible_devices"]) for s in servers] == [
            ("funaudiochat", 8002, "0"), ("funaudiochat-2", 8003, "0")]
        # The servers listen on loopback only: the front door is the one way in.
        listening = [line.split()[3] for line in on_pod("ss -Hltn").splitlines()]
        assert sorted(address for address in listening if address.endswith((":8002", ":8003"))) == [
            "127.0.0.1:8002", "127.0.0.1:8003"], listening
        # The key stays on the pod for root alone, and in no configuration file or log.
        assert on_pod("stat -c '%%a %%U' %s/front-door/door.key" % HOME).strip() == "600 root"
        assert on_pod("grep -rl %s %s/front-door/haproxy.cfg %s/logs || true" % (key, HOME, HOME)).strip() == ""
        status = on_pod("supervisorctl status")
        # Two servers, the output pruner, the idle-stop watcher, the front door, its conversation-length limit and
        # its web page's file server.
        assert status.count("RUNNING") == 7, status
        for server in servers:
            environ = on_pod("tr '\\0' '\\n' < /proc/$(supervisorctl pid %s)/environ" % server["program"])
            assert "CUDA_VISIBLE_DEVICES=0" in environ.split("\n")
            assert "TTS model loaded successfully" in on_pod("cat %s" % server["log"])
            assert on_pod("test -d %s && echo yes" % server["output_dir"]).strip() == "yes"

        # Both servers were talked to, and the report says so.
        results = dict(task_results(out, NAME))
        others = results["Ask the pod's other servers the same question"]["results"]
        urls = [written["url"]] + [item["url"] for item in others]
        door = "ws://%s:%s/api/chat" % (pod["ssh_host"], pod["ports"]["8010"])
        assert urls == [door + "?server=fac-servers.funaudiochat", door + "?server=fac-servers.funaudiochat-2"], urls
        assert all(item["passed"] for item in others)
        assert written["passed"] is True and [s["passed"] for s in written["servers"]] == [True, True]
        assert [s["url"] for s in written["servers"]] == urls
        assert "  servers: 2 of 2 answered, 2 conversations at once" in out["report_text"]
        https = "wss://%s-8000.proxy.runpod.net/api/chat" % pod["id"]
        assert written["front_door"] == {"url": door, "https_url": https, "sessions": 2, "answered": 2, "passed": True,
                                         "failures": []}
        assert "  front door: %s, 2 of 2 conversations at once answered" % door in out["report_text"]

        def wait_until_the_servers_hold_no_conversation():
            # A conversation the client has closed may still be open on its server for a moment (the server has not
            # read the close yet); the next phase starts once every server has let go of the last one.
            since = time.monotonic()
            while on_pod("ss -Htn state established '( sport = :8002 or sport = :8003 )' | wc -l").strip() != "0":
                assert time.monotonic() - since < 60, "a server still holds a closed conversation after 60 s"
                time.sleep(0.2)

        # Two conversations at once, one per server: both whole. One alone first, for the length of a whole reply.
        wait_until_the_servers_hold_no_conversation()
        alone = _s2s.converse(urls[0], question(), expect=["Paris"], idle_seconds=1.0, door_key=key)
        assert alone["failures"] == []
        wait_until_the_servers_hold_no_conversation()
        together = at_once(urls, key)
        assert [r["failures"] for r in together] == [[], []]
        assert [r["reply_audio_seconds"] for r in together] == [alone["reply_audio_seconds"]] * 2

        # Through the front door, one more conversation than servers waits for a free one, then gets a whole reply.
        wait_until_the_servers_hold_no_conversation()
        crowd = _s2s.converse_many(door, question(), 3, expect=["Paris"], idle_seconds=1.0, door_key=key)
        assert [r["failures"] for r in crowd] == [[], [], []]
        assert [r["reply_audio_seconds"] for r in crowd] == [alone["reply_audio_seconds"]] * 3
        waited = max(crowd, key=lambda r: r["handshake_seconds"])
        assert waited["handshake_seconds"] >= min(r["last_reply_seconds"] for r in crowd if r is not waited)

        # A changed front door reloads HAProxy: a conversation open meanwhile goes on.
        reloads = "grep -cE 'Reloading HAProxy|Reexecuting Master process' %s/logs/front-door.log || true" % HOME  # 2.6+, 2.4
        master = on_pod("supervisorctl pid funaudiochat-front-door").strip()
        # No keep-alive pings from this client, as from a browser's: on a loaded 2-core machine a pong can take
        # longer than the library's 20 s while the deploy runs, and the spoken turn below is what tells.
        with connect(door, open_timeout=10, max_size=None, ping_interval=None, additional_headers=auth) as held:
            assert held.recv(timeout=10) == b"\x00\x00\x00"
            before = int(on_pod(reloads))
            deploy(stack, tmp_path, tags="pod,front_door", front_door_queue_timeout=45)
            assert int(on_pod(reloads)) == before + 1  # HAProxy's master re-executed itself: a reload
            assert on_pod("supervisorctl pid funaudiochat-front-door").strip() == master  # not a restart
            assert spoken_turn(held) == alone["reply_audio_seconds"]

        # Fewer servers asked for: the extra one goes, the first keeps serving; a queue of one.
        out, written = deploy(stack, tmp_path, servers_per_pod=1, front_door_max_queue=1)
        assert stats(out, NAME)["changed"] > 0
        assert [s["program"] for s in json.loads(on_pod("cat %s/servers.json" % HOME))] == ["funaudiochat"]
        assert "funaudiochat-2" not in on_pod("supervisorctl status")
        assert written["passed"] is True and len(written["servers"]) == 1
        assert written["front_door"]["sessions"] == 1 and written["front_door"]["passed"] is True

        # The one server is taken and one session waits: the next one is told the servers are busy.
        with connect(door, open_timeout=10, additional_headers=auth) as taken:
            assert taken.recv(timeout=10) == b"\x00\x00\x00"
            waiting = threading.Thread(target=_s2s.handshake, args=(door, 60, key))
            waiting.start()
            deadline = time.monotonic() + 10
            while on_pod(QUEUED).strip() != "1":  # HAProxy's own count of sessions waiting
                assert time.monotonic() < deadline, "the second session never queued"
                time.sleep(0.2)
            # The idle-stop watcher counts what the front door holds and queues (as it does for a fleet's other pods'
            # conversations, which never touch this pod's servers).
            deadline = time.monotonic() + 30
            while json.loads(on_pod("cat %s/idle-stop.state.json" % HOME) or "{}").get("door_conversations", 0) < 2:
                assert time.monotonic() < deadline, on_pod("cat %s/idle-stop.state.json" % HOME)
                time.sleep(0.5)
            # A stranger (no key, a wrong one, a made-up cookie, a user's name with a wrong password) is refused at
            # the door: no queue slot taken.
            for headers in ({}, {"Authorization": "Bearer " + "x" * 32}, {"Cookie": "fac_key=" + key[::-1]},
                            {"Authorization": basic_auth(USER, PASSWORD[:-1])}):
                with pytest.raises(InvalidStatus) as refused:
                    connect(door, open_timeout=10, additional_headers=headers)
                assert refused.value.response.status_code == 401, headers
                assert refused.value.response.headers["WWW-Authenticate"] == 'Basic realm="funaudiochat"'
                assert on_pod(QUEUED).strip() == "1"
            # The key, or a user's name and password, passes the lock (and finds every server busy).
            for headers in (auth, {"Authorization": basic_auth(USER, PASSWORD)}):
                with pytest.raises(InvalidStatus) as busy:
                    connect(door, open_timeout=10, additional_headers=headers)
                assert busy.value.response.status_code == 503
                assert b"All Fun-Audio-Chat servers are busy" in busy.value.response.body
        waiting.join(timeout=60)

        # No server up: said at once.
        on_pod("supervisorctl stop funaudiochat")
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    _s2s.handshake(door, 5, key)
                except _s2s.S2SError as exc:
                    if "No Fun-Audio-Chat server is up" in str(exc):
                        break
                assert time.monotonic() < deadline, "the front door never noticed the server was down"
        finally:
            on_pod("supervisorctl start funaudiochat")

        # The longest a conversation may last: a held one (the server's pings keep it from being idle) is ended.
        deploy(stack, tmp_path, tags="pod,front_door", front_door_max_conversation_minutes=0.1)
        with connect(door, open_timeout=60, additional_headers=auth) as held:
            assert held.recv(timeout=60) == b"\x00\x00\x00"
            opened = time.monotonic()
            with pytest.raises(ConnectionClosed):
                while True:
                    held.recv(timeout=60)
            assert time.monotonic() - opened < 30  # 6 s, then the next 10 s pass
        assert "ended a conversation on fac-servers.funaudiochat after " in on_pod(
            "cat %s/logs/front-door-limit.log" % HOME)
    finally:
        run_module("pod", {"name": NAME, "state": "absent"}, env=stack.env())
