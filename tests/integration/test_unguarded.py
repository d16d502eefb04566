"""Nothing bills without a guard: after a run that failed, every pod it made stops itself.

The invariant (docs/RELIABILITY.md): after any run of the playbooks, passed, failed or killed, every pod it made
or touched is serving (its spoken check passed), running with a working idle stop, or stopped. Checked from
RunPod's side (the sandbox API's pod) and the pod's side (its watcher under supervisord), not from the run's
own output. Here: a fresh pod whose deploy fails at the models (the hub refuses the download), a fresh pod
whose controller is killed in the middle of the installs (slow: make test-full), and a pod made with --tags pod,
which status.yml names as UNGUARDED.

A fleet RunPod cannot fully make (slow: make test-full): the pods it made are provisioned, checked and guarded, the
run fails last naming the missing pod, and a re-run with the GPU back completes the fleet without restarting the
servers that served.
"""

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import ANSIBLE_BIN, REPO_ROOT, ansible_env, run_module, run_playbook, ssh, task_results
from tests.sandbox.control import ModelHub
from tests.sandbox.stack import POD_HOST


def _command(stack, name, **extra):
    extra_vars = stack.deploy_vars(pod_name=name, gpu="A40", volume_gb=20, idle_stop_minutes=1, **extra)
    return [os.path.join(ANSIBLE_BIN, "ansible-playbook"), "playbooks/deploy.yml", "-e", json.dumps(extra_vars)]


def _pod(stack, name):
    (pod,) = run_module("pod_info", {"name": name}, env=stack.env())["pods"]
    return pod


def _watcher_runs(stack, pod):
    status = ssh(pod["ssh_host"], pod["ssh_port"], stack.env()["SANDBOX_SSH_KEY"],
                 "supervisorctl status funaudiochat-idle-stop")
    return "RUNNING" in status.stdout, status.stdout + status.stderr


def _stops_by_itself(stack, name, timeout=600):
    """Wait until RunPod's side says the pod stopped; how long that took (the idle minute, the run's SSH
    connections closing, the stop)."""
    started = time.monotonic()
    while _pod(stack, name)["status"] == "RUNNING":
        assert time.monotonic() - started < timeout, "pod %s still running %d s after the run" % (name, timeout)
        time.sleep(2)
    return time.monotonic() - started


def _guarded_then_stopped(stack, name):
    """The invariant for a pod a run left unchecked: on the pod's side its watcher runs under supervisord (with no
    server yet); on RunPod's side the pod stops itself, with nothing more from the controller."""
    running, status = _watcher_runs(stack, _pod(stack, name))
    assert running, status
    _stops_by_itself(stack, name)


@pytest.fixture
def pod_names(sandbox_stack):
    names = []
    yield names
    for name in names:
        run_module("pod", {"name": name, "state": "absent"}, env=sandbox_stack.env())


def test_a_deploy_that_fails_at_the_models_leaves_a_pod_that_stops_itself(sandbox_stack, tmp_path, pod_names):
    name = "fac-guard-fail"
    pod_names.append(name)
    report = tmp_path / "report.json"
    with ModelHub(token="hf_right", extra_args=["--host", "0.0.0.0"]) as hub:
        proc = subprocess.run(
            _command(sandbox_stack, name, models_hf_endpoint=hub.url.replace("127.0.0.1", POD_HOST, 1)),
            capture_output=True, text=True, cwd=REPO_ROOT, timeout=1800, check=False,
            env=ansible_env(dict(sandbox_stack.env(), FUNAUDIOCHAT_S2S_REPORT=str(report))))
    output = proc.stdout + proc.stderr
    entry = json.loads(report.read_text())[name]
    assert proc.returncode != 0 and entry["verdict"] == "FAILED at models", output[-3000:]
    # The report says the guard was armed, and RunPod's backstop was set when the pod was made (24 h by default).
    assert entry["idle_stop"] == {"minutes": 1, "max_hours": 0.0}, entry
    assert "idle stop: the pod stops itself after 1 min without a conversation" in output
    backstop = time.mktime(time.strptime(entry["pod"]["stop_after"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())
    assert 23.5 * 3600 < backstop <= 24 * 3600, entry["pod"]

    _guarded_then_stopped(sandbox_stack, name)


@pytest.mark.slow  # 150 s; the guard itself is shown in make test by the failed deploy above
def test_a_killed_controller_mid_install_leaves_a_pod_that_stops_itself(sandbox_stack, tmp_path, pod_names):
    name = "fac-guard-kill"
    pod_names.append(name)
    proc = subprocess.Popen(_command(sandbox_stack, name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=REPO_ROOT, start_new_session=True, env=ansible_env(sandbox_stack.env()))
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "TASK [funaudiochat.runpod.app" in line:
                os.killpg(proc.pid, signal.SIGKILL)  # the controller dies: no rescue, no always, no last play
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert any("TASK [funaudiochat.runpod.app" in line for line in lines), "".join(lines)[-3000:]
    _guarded_then_stopped(sandbox_stack, name)


def test_status_names_a_running_pod_that_nothing_on_it_stops(sandbox_stack, tmp_path, pod_names):
    # deploy.yml --tags pod makes the pod and stops there: nothing on the pod stops it (RunPod's backstop is
    # all it has), and status.yml says so in its table and in red.
    name = "fac-guard-bare"
    pod_names.append(name)
    extra = sandbox_stack.deploy_vars(pod_name=name, gpu="A40", volume_gb=20)
    rc, _out, err = run_playbook("playbooks/deploy.yml", extra, tags="pod", env=sandbox_stack.env())
    assert rc == 0, err[-2000:]
    rc, out, err = run_playbook("playbooks/status.yml", extra_vars={"name_prefix": name},
                                env=dict(sandbox_stack.env(), FUNAUDIOCHAT_KNOWN_HOSTS=str(tmp_path / "known_hosts")))
    assert rc == 0, err[-2000:]
    results = dict(task_results(out))
    header, row = results["Show the pods"]["msg"].splitlines()[:2]
    assert row[header.index("STOPS AT"):].startswith("UNGUARDED: no idle-stop watcher on the pod"), row
    warning = results["Warn about the running pods that nothing on them stops (UNGUARDED)"]
    assert warning["failed"] and "%s (%s): no idle-stop watcher on the pod" % (name, _pod(sandbox_stack, name)["id"]) \
        in warning["msg"], warning


def _set_stock(stack, gpu, cloud, count):
    request = urllib.request.Request(stack.env()["SANDBOX_ADMIN_URL"] + "/stock", method="POST",
                                     data=json.dumps({"gpu": gpu, "cloud": cloud, "count": count}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


def _server_pid(stack, pod):
    return ssh(pod["ssh_host"], pod["ssh_port"], stack.env()["SANDBOX_SSH_KEY"], "supervisorctl pid funaudiochat").stdout


@pytest.mark.slow
def test_a_fleet_runpod_cannot_fully_make_serves_with_the_pods_it_made_then_fails_naming_the_others(
        sandbox_stack, tmp_path, pod_names):
    fleet = "fac-short"
    names = ["%s-%d" % (fleet, index) for index in (1, 2, 3)]
    pod_names.extend(names)
    report = tmp_path / "report.json"
    env = dict(sandbox_stack.env(), FUNAUDIOCHAT_S2S_REPORT=str(report))
    extra = sandbox_stack.deploy_vars(pod_name=fleet, pod_count=3, gpu="A40", cloud_type=["SECURE"], volume_gb=20,
                                      idle_stop_minutes=5)
    _set_stock(sandbox_stack, "NVIDIA A40", "SECURE", 2)  # RunPod has two A40s for three pods
    try:
        rc, out, _err = run_playbook("playbooks/deploy.yml", extra, env=env)
    finally:
        _set_stock(sandbox_stack, "NVIDIA A40", "SECURE", 1000)
    assert rc == 2
    made = sorted(pod["name"] for pod in run_module("pod_info", {"name_prefix": fleet + "-"}, env=env)["pods"])
    (missing,) = set(names) - set(made)
    # The run fails last, in one line naming the missing pod and RunPod's reason, once the others were checked.
    last = task_results(out)[-1]
    assert last[0] == "Fail for the pods that could not be made (the others were provisioned and checked)", last
    assert last[1]["msg"].startswith("%s: No capacity for pod '%s'" % (missing, missing)), last[1]["msg"]
    entries = json.loads(report.read_text())
    assert [entries[name]["verdict"] for name in made] == ["PASSED", "PASSED"], entries
    assert entries[missing]["verdict"] == "FAILED at pod", entries[missing]
    # The pods that were made serve, each with its idle stop running (the pod's side).
    pids = {}
    for name in made:
        pod = _pod(sandbox_stack, name)
        assert pod["status"] == "RUNNING"
        running, status = _watcher_runs(sandbox_stack, pod)
        assert running, status
        pids[name] = _server_pid(sandbox_stack, pod)

    # RunPod has the GPU again: the same command makes the missing pod, and the servers that served go on.
    rc, out, err = run_playbook("playbooks/deploy.yml", extra, env=env)
    assert rc == 0, err[-3000:]
    assert [json.loads(report.read_text())[name]["verdict"] for name in names] == ["PASSED"] * 3
    assert dict((name, _server_pid(sandbox_stack, _pod(sandbox_stack, name))) for name in made) == pids
