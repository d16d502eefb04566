"""Faults over the whole deploy on a sandbox container pod: the pod, SSH, the model hub, the server, the controller.

Each case runs deploy.yml (or reprovision.yml) with the fault, and ends in: one clear
failure in the report (or the fault ridden out), never a second pod, nothing
finished thrown away, and the next run completing with a passing spoken check.
The cases build on each other in file order (one pod, fac-faults).
"""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

from tests.helpers import ANSIBLE_BIN, REPO_ROOT, ansible_env, press_ctrl_c, run_module, ssh
from tests.sandbox import podman
from tests.sandbox.control import ModelHub
from tests.sandbox.runpod_api.podman_backend import container_name
from tests.sandbox.stack import POD_HOST

NAME = "fac-faults"

# About 16 minutes of pod time (8 on make test's two workers): make test-full runs it, make test leaves it out.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def terminated_at_the_end(sandbox_stack):
    yield
    run_module("pod", {"name": NAME, "state": "absent"}, env=sandbox_stack.env())


def _command(stack, playbook="playbooks/deploy.yml", **extra):
    extra_vars = stack.deploy_vars(pod_name=NAME, gpu="A40", volume_gb=20, **extra)
    return [os.path.join(ANSIBLE_BIN, "ansible-playbook"), playbook, "-e", json.dumps(extra_vars)]


def _entry(report):
    """This pod's block of the report's JSON (None when the run wrote none)."""
    return json.loads(report.read_text()).get(NAME) if report.exists() else None


def deploy(stack, tmp_path, playbook="playbooks/deploy.yml", inventory=None, **extra):
    """Run the playbook; (returncode, output, this host's report entry or None)."""
    report = tmp_path / ("report-%d.json" % time.monotonic_ns())
    cmd = _command(stack, playbook, **extra) + (["-i", inventory] if inventory else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=1800, check=False,
                          env=ansible_env(dict(stack.env(), FUNAUDIOCHAT_S2S_REPORT=str(report))))
    return proc.returncode, proc.stdout + proc.stderr, _entry(report)


def deploy_until(stack, tmp_path, marker, action, deadline=900, **extra):
    """Start deploy.yml, call ``action()`` once ``marker`` shows in its output, let it finish.

    A run still going ``deadline`` seconds after the start is killed (process group) and fails the
    test: a fault must end a run, never hang it.
    """
    report = tmp_path / ("report-%d.json" % time.monotonic_ns())
    proc = subprocess.Popen(_command(stack, **extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=REPO_ROOT, start_new_session=True,
                            env=ansible_env(dict(stack.env(), FUNAUDIOCHAT_S2S_REPORT=str(report))))
    killed = []

    def kill():
        killed.append(time.monotonic())
        os.killpg(proc.pid, signal.SIGKILL)
    watchdog = threading.Timer(deadline, kill)
    watchdog.start()
    lines, acted = [], False
    try:
        for line in proc.stdout:
            lines.append(line)
            if not acted and marker in line:
                action(proc)
                acted = True
        proc.wait(timeout=60)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = "".join(lines)
    assert not killed, "still running %ss after it started; killed:\n%s" % (deadline, output[-3000:])
    assert acted, "never reached %r:\n%s" % (marker, output[-3000:])
    return proc.returncode, output, _entry(report)


def passes(stack, tmp_path, **extra):
    rc, out, entry = deploy(stack, tmp_path, **extra)
    assert rc == 0, out[-4000:]
    assert entry["verdict"] == "PASSED", entry
    assert len(run_module("pod_info", {"name": NAME}, env=stack.env())["pods"]) == 1  # never a second pod
    return entry


def hub_bytes(stack):
    with urllib.request.urlopen(stack.env()["HF_ENDPOINT"] + "/_sandbox/stats", timeout=10) as response:
        return json.loads(response.read())["bytes_sent"]


def pod_of(stack):
    pods = run_module("pod_info", {"name": NAME}, env=stack.env())["pods"]
    return pods[0] if pods else None


def test_pod_terminated_from_outside_mid_deploy(sandbox_stack, tmp_path):
    def terminate(_proc):
        assert run_module("pod", {"name": NAME, "state": "absent"}, env=sandbox_stack.env())["changed"]
    rc, out, entry = deploy_until(sandbox_stack, tmp_path, "TASK [funaudiochat.runpod.torch", terminate)
    assert rc != 0
    assert entry["verdict"].startswith("FAILED at ") and entry["stopped_at"]["msg"], entry
    assert pod_of(sandbox_stack) is None  # nothing left billing
    passes(sandbox_stack, tmp_path)  # the next run makes a new pod and completes


def test_pod_stopped_from_outside_mid_deploy_then_resumed_without_downloading_again(sandbox_stack, tmp_path):
    def stop(_proc):
        assert run_module("pod", {"name": NAME, "state": "stopped"}, env=sandbox_stack.env())["changed"]
    rc, _out, entry = deploy_until(sandbox_stack, tmp_path, "TASK [funaudiochat.runpod.app", stop)
    assert rc != 0 and entry["verdict"].startswith("FAILED at "), entry
    assert pod_of(sandbox_stack)["status"] == "EXITED"
    before = hub_bytes(sandbox_stack)
    passes(sandbox_stack, tmp_path)  # deploy.yml resumes it (new ports, new host keys) and re-converges
    assert hub_bytes(sandbox_stack) == before  # the models on the volume were kept


def test_ssh_dropping_mid_role_when_the_container_restarts(sandbox_stack, tmp_path):
    def restart(_proc):
        podman.run("restart", "--time", "0", container_name(pod_of(sandbox_stack)["id"]))
    rc, out, entry = deploy_until(sandbox_stack, tmp_path, "TASK [funaudiochat.runpod.torch", restart)
    if rc != 0:  # the restart cut SSH: the report says where, as unreachable or a failed task
        assert entry["verdict"].startswith("FAILED at "), entry
    passes(sandbox_stack, tmp_path)


def test_a_pod_that_stops_answering_mid_task_ends_the_run_instead_of_hanging_it(sandbox_stack, tmp_path):
    """The pod frozen (its TCP connection open, nothing answering: what a vanished pod looks like).

    SSH's keep-alive (ServerAliveInterval in the collection's SSH options) gives up after about a
    minute, so the run ends as unreachable; deploy_until's deadline fails the test if it hangs.
    """
    container = container_name(pod_of(sandbox_stack)["id"])
    frozen = []

    def freeze(_proc):
        podman.run("pause", container)
        frozen.append(time.monotonic())
    try:
        rc, out, entry = deploy_until(sandbox_stack, tmp_path, "TASK [funaudiochat.runpod.torch", freeze, deadline=400)
        ended = time.monotonic() - frozen[0]
    finally:
        if frozen:
            podman.run("unpause", container)
    assert rc != 0, out[-3000:]
    assert entry["verdict"].startswith("FAILED at "), entry
    assert "UNREACHABLE" in out, out[-3000:]
    print("run ended %.0f s after the pod froze" % ended)
    passes(sandbox_stack, tmp_path)  # answering again: the next run completes on the same pod


def test_hub_answering_5xx_for_a_while_is_ridden_out(sandbox_stack, tmp_path):
    request = urllib.request.Request(sandbox_stack.env()["HF_ENDPOINT"] + "/_sandbox/faults", method="POST",
                                     data=json.dumps({"kind": "status", "status": 503, "count": 3}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    passes(sandbox_stack, tmp_path)


def test_gated_repo_without_or_with_a_wrong_token_then_with_the_right_one(sandbox_stack, tmp_path):
    with ModelHub(token="hf_right", extra_args=["--host", "0.0.0.0"]) as hub:
        endpoint = hub.url.replace("127.0.0.1", POD_HOST, 1)
        for token in (None, "hf_wrong"):
            extra = dict(models_hf_endpoint=endpoint)
            if token:
                extra["hf_token"] = token
            rc, out, entry = deploy(sandbox_stack, tmp_path, **extra)
            assert rc != 0 and entry["verdict"] == "FAILED at models", entry
            assert "refused access (HTTP 401" in entry["stopped_at"]["msg"] and "hf_token" in entry["stopped_at"]["msg"]
            assert "hf_wrong" not in out
        # Nothing lost meanwhile: the server from the last good run still answers.
        host_port = (pod_of(sandbox_stack)["ssh_host"], pod_of(sandbox_stack)["ssh_port"])
        server = ssh(host_port[0], host_port[1], sandbox_stack.env()["SANDBOX_SSH_KEY"],
                     "supervisorctl status funaudiochat")
        assert "RUNNING" in server.stdout, server.stdout
        passes(sandbox_stack, tmp_path, models_hf_endpoint=endpoint, hf_token="hf_right")


def test_server_crashing_after_readiness_is_brought_back(sandbox_stack, tmp_path):
    pod = pod_of(sandbox_stack)
    killed = ssh(pod["ssh_host"], pod["ssh_port"], sandbox_stack.env()["SANDBOX_SSH_KEY"],
                 "pkill -9 -f 'web_demo[.]server[.]server'; sleep 1; true")
    assert killed.returncode == 0
    rc, out, entry = deploy(sandbox_stack, tmp_path, playbook="playbooks/reprovision.yml",
                            inventory="inventory/runpod.yml", provision_hosts=NAME)
    assert rc == 0 and entry["verdict"] == "PASSED", out[-3000:]


def test_server_crashing_during_start_up_fails_with_its_log_then_recovers(sandbox_stack, tmp_path):
    rc, _out, entry = deploy(sandbox_stack, tmp_path, server_model_path="pretrained_models/missing",
                             server_ready_timeout=20)
    assert rc != 0 and entry["verdict"] == "FAILED at server", entry
    assert "did not become ready" in entry["stopped_at"]["msg"]
    assert "missing" in entry["stopped_at"]["msg"]  # the server's own last lines name the cause
    passes(sandbox_stack, tmp_path)


def test_interrupted_mid_download_and_run_again(sandbox_stack, tmp_path):
    """Ctrl-C while a model downloads; the next run fetches only what is missing."""
    with ModelHub(extra_args=["--host", "0.0.0.0", "--scale", "40"]) as hub:
        endpoint = hub.url.replace("127.0.0.1", POD_HOST, 1)
        extra = dict(models_hf_endpoint=endpoint, models_progress_interval=1,
                     models_repos=[{"repo_id": "FunAudioLLM/Fun-Audio-Chat-8B"}])
        pod = pod_of(sandbox_stack)
        ssh(pod["ssh_host"], pod["ssh_port"], sandbox_stack.env()["SANDBOX_SSH_KEY"],
            "rm -rf /workspace/funaudiochat/models/Fun-Audio-Chat-8B")

        def interrupt(proc):  # pressed from a thread: deploy_until reads the run's output meanwhile
            threading.Thread(target=press_ctrl_c, args=(proc, 4, 15), daemon=True).start()
        rc, _out, _entry = deploy_until(sandbox_stack, tmp_path, "GB of", interrupt, **extra)
        assert rc != 0
        time.sleep(3)  # the download goes on on the pod meanwhile (detached from the run); the rerun follows it
        listing = "find /workspace/funaudiochat/models/Fun-Audio-Chat-8B -type f -not -path '*/.cache/*' -printf '%P\\n'"
        kept = set(os.path.basename(path) for path in ssh(
            pod["ssh_host"], pod["ssh_port"], sandbox_stack.env()["SANDBOX_SSH_KEY"], listing).stdout.split())
        first = hub.stats()["bytes_sent"]
        hub.clear_stats()
        rc, out, entry = deploy(sandbox_stack, tmp_path, **extra)
        assert rc == 0 and entry["verdict"] == "PASSED", out[-3000:]
        fetched = set(r["path"].rsplit("/", 1)[-1] for r in hub.stats()["requests"] if r["bytes"])
        assert first > 0 and kept, (first, kept)
        assert not kept & fetched, (kept, fetched)  # files finished before the interrupt were not fetched again
    passes(sandbox_stack, tmp_path)  # back to the sandbox's own hub
