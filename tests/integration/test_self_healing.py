"""A pod that looks after itself: it serves again after a stop/resume or a restart with no Ansible run
and no login, and it stops itself when nobody talks to it.

What an operator relies on after `deploy.yml -e idle_stop_minutes=1`: RunPod wipes the container disk
at every stop, yet the pod's start command runs the boot script on the volume, which brings supervisord,
the servers and the front door back (reinstalling HAProxy); the idle-stop watcher stops the pod through
RunPod's API with the pod's own key a minute after the last conversation, whatever a stranger does to the
front door meanwhile; and that key cannot touch another pod. The spoken question is asked from this
machine through the front door's new public port each time, with the door's key.
"""

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _pods
from tests.helpers import answered_by_itself, door_key, made_pods, on_pod, run_playbook, sdk, ssh_command, task_results
from tests.sandbox import podman
from tests.sandbox.runpod_api.podman_backend import container_name

POD = "fac-heal"


def ports_in_session(pod_id, host, port, key):
    """The ports the pod's idle-stop watcher saw sessions on while an SSH login stayed open, and its states.

    Polled until the watcher has written its state twice since the login began (at every poll while it sees a
    session, every 15 s otherwise), so an empty answer means it looked and saw nothing."""
    login = subprocess.Popen(ssh_command(host, port, key, "sleep 40"))
    seen, states, since = set(), [], time.time()
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and login.poll() is None:
            state = json.loads(on_pod(pod_id, "cat /workspace/funaudiochat/idle-stop.state.json") or "{}")
            if state.get("updated_at", 0) >= since + 1:  # not what it wrote before the login
                seen.update(state.get("session_ports") or [])
                if state not in states:
                    states.append(state)
            if len(states) >= 2:
                break
            time.sleep(0.5)
        assert login.poll() is None, "the SSH login ended before the watcher wrote its state twice: %s" % states
    finally:
        login.kill()
        login.wait(timeout=60)
    return seen, states


class Stranger(threading.Thread):
    """Someone who found the pod's front door: holds bare TCP connections to it (3.5 s of every 4 s, never a byte
    sent) and knocks without a key, until told to stop. Counts what the door answered the knocks."""

    def __init__(self, host, port):
        super().__init__(daemon=True)
        self.address, self.done, self.answers = (host, int(port)), threading.Event(), []

    def run(self):
        while not self.done.is_set():
            held = []
            for _connection in range(3):
                try:
                    held.append(socket.create_connection(self.address, timeout=5))
                except OSError:
                    pass
            try:
                with urllib.request.urlopen("http://%s:%s/api/chat" % self.address, timeout=5) as answer:
                    self.answers.append(answer.status)
            except urllib.error.HTTPError as exc:
                self.answers.append(exc.code)
            except OSError:
                pass
            self.done.wait(3.5)
            for sock in held:
                sock.close()
            self.done.wait(0.5)

    def stop(self):
        self.done.set()
        self.join(timeout=60)


def logins(pod_id):
    return int(on_pod(pod_id, "grep -c 'Accepted publickey' /var/log/sshd.log || true") or 0)


def test_a_pod_serves_again_by_itself_and_stops_itself_when_idle(sandbox_stack, tmp_path):
    env = sandbox_stack.env()
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    rc, out, err = run_playbook("playbooks/deploy.yml", env=env, extra_vars=sandbox_stack.deploy_vars(
        pod_name=POD, gpu="A40", volume_gb=20, idle_stop_minutes=1))
    assert rc == 0, err[-3000:]
    runpod = sdk(sandbox_stack)
    pod = made_pods(out)[POD]
    pod_id = pod["id"]
    key = door_key(sandbox_stack, POD)
    try:
        # The report says the pod stops itself, and what a day left running would cost.
        written = json.loads(report.read_text())[POD]
        assert written["idle_stop"] == {"minutes": 1, "max_hours": 0.0}
        assert written["cost_per_day_usd"] == round(pod["cost_per_hr"] * 24, 2)
        assert ("idle stop: the pod stops itself after 1 min without a conversation (a resume serves again by "
                "itself); left running: %.2f USD a day" % written["cost_per_day_usd"]) in out["report_text"]
        assert pod["pod"]["start_command"].endswith("exec /start.sh'")
        # The run held the idle stop off while it worked on the pod (its SSH connections counted: a run
        # longer than the 1 minute is not stopped under it), and let it go at its end.
        watched = on_pod(pod_id, "cat /workspace/funaudiochat/logs/idle-stop.log")
        assert watched.index("an Ansible run works on the pod") < watched.index("the Ansible run is over"), watched
        assert on_pod(pod_id, "ls /workspace/funaudiochat/idle-stop.hold 2>&1 || true").endswith("No such file or directory")
        # What the watcher sees of SSH is the pod's sshd: a real login over the pod's public port counts only
        # while a hold is there (written here without SSH, as provision.yml would).
        host, ssh_port = _pods.public_ports(runpod.get_pod(pod_id))[22]
        seen, states = ports_in_session(pod_id, host, ssh_port, env["SANDBOX_SSH_KEY"])
        assert 22 not in seen, states
        on_pod(pod_id, "echo '{}' > /workspace/funaudiochat/idle-stop.hold")
        seen, states = ports_in_session(pod_id, host, ssh_port, env["SANDBOX_SSH_KEY"])
        assert 22 in seen, states
        on_pod(pod_id, "rm /workspace/funaudiochat/idle-stop.hold")

        # Stopped and resumed through RunPod's API, as from the console: the container disk is new.
        runpod.stop_pod(pod_id)
        runpod.resume_pod(pod_id, 1)
        seconds = answered_by_itself(runpod, pod_id, key=key)
        assert logins(pod_id) == 0, "the server came back with no SSH login"
        # Meanwhile the boot script reinstalls HAProxy (the servers do not wait for it), then says it is done.
        deadline = time.monotonic() + 120
        while not ("supervisord started" in on_pod(pod_id, "tail -n 1 /workspace/funaudiochat/logs/boot.log")
                   and "RUNNING" in on_pod(pod_id, "supervisorctl status funaudiochat-front-door")):
            assert time.monotonic() < deadline, on_pod(pod_id, "tail -n 5 /workspace/funaudiochat/logs/boot.log")
            time.sleep(1)
        assert on_pod(pod_id, "command -v haproxy") == "/usr/sbin/haproxy", "the boot script reinstalled HAProxy"
        print("resume -> spoken answer by itself: %.1f s" % seconds)

        # The container restarted in place (a host restart): the same way back.
        before = logins(pod_id)
        podman.run("restart", "-t", "2", container_name(pod_id))
        answered_by_itself(runpod, pod_id, key=key)
        assert logins(pod_id) == before

        # status.yml: the server up, nobody talking just now, and when the pod stops itself.
        # (From a machine that has not seen the pod yet: this one noted its first start, less than the
        # 2 minutes of slack the collection gives RunPod's uptime before the resume, so keeps its old key.)
        rc, out, err = run_playbook("playbooks/status.yml", extra_vars={"name_prefix": POD},
                                    env=dict(env, FUNAUDIOCHAT_KNOWN_HOSTS=str(tmp_path / "known_hosts_status")))
        assert rc == 0, err[-2000:]
        header, row = dict(task_results(out))["Show the pods"]["msg"].splitlines()[:2]
        columns = dict((name, row[header.index(name):].split("  ")[0]) for name in ("SERVER", "IDLE", "STOPS AT"))
        assert columns["SERVER"] == "up" and columns["IDLE"] in ("0 min", "in use"), row
        assert columns["STOPS AT"].endswith(" UTC (in 0 min)") or columns["STOPS AT"].endswith(" UTC (in 1 min)"), row

        # The pod's own key, through runpodctl in the pod: not for another pod.
        refused = subprocess.run(["podman", "exec", container_name(pod_id), "runpodctl", "pod", "stop", "otherpod12345"],
                                 capture_output=True, text=True, check=False, timeout=60, env=podman.environment(None))
        assert refused.returncode != 0 and "may only act on pod %s" % pod_id in refused.stderr

        # Idle: a minute after the last conversation (answered_by_itself's), the pod stops itself, while a
        # stranger holds bare connections to its front door and knocks without a key (refused: 401, then 429).
        host, door_port = _pods.public_ports(runpod.get_pod(pod_id))[8010]
        stranger = Stranger(host, door_port)
        stranger.start()
        try:
            deadline = time.monotonic() + 150
            while runpod.get_pod(pod_id)["desiredStatus"] == "RUNNING":
                assert time.monotonic() < deadline, "the idle pod did not stop itself: %s" % on_pod(
                    pod_id, "cat /workspace/funaudiochat/idle-stop.state.json")
                time.sleep(3)
        finally:
            stranger.stop()
        assert stranger.answers and set(stranger.answers) <= {401, 429}, stranger.answers
        stopped = runpod.get_pod(pod_id)
        assert stopped["desiredStatus"] == "EXITED" and stopped["runtime"] is None

        # Resumed, it serves again by itself, and its log says why it stopped.
        runpod.resume_pod(pod_id, 1)
        answered_by_itself(runpod, pod_id, key=key)
        log = on_pod(pod_id, "cat /workspace/funaudiochat/logs/idle-stop.log")
        assert "no session for 1 min: stopping pod %s through RunPod's API" % pod_id in log
        # The stop came from the pod itself, with its own key (the container is gone before it can log more).
        with urllib.request.urlopen(sandbox_stack.info()["api"]["url"] + "/_sandbox/requests", timeout=30) as answer:
            requests = json.load(answer)["requests"]
        from_pod = [(entry["operations"], entry["status"]) for entry in requests if entry.get("caller") == "pod " + pod_id]
        assert from_pod == [(["podStop"], 403), (["podStop"], 200)]  # runpodctl on another pod refused; then its own
    finally:
        runpod.terminate_pod(pod_id)
