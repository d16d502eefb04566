"""deploy.yml end to end on a sandbox container pod: pod, the roles, the spoken checks, the report.

What users run: `ansible-playbook playbooks/deploy.yml -e gpu=A40` (here with
the sandbox's role variables). It must end with a passing spoken check and the
end-of-run report (text and JSON); a second run changes nothing; SSH reaches
the pod through the collection's own host-key policy; a broken server fails
the run and the report names the cause.
"""

import json
import os
import re
import subprocess
import sys
import time

from tests.helpers import (ANSIBLE_BIN, REPO_ROOT, ansible_env, asked_again, door_key, made_pods, run_module, run_playbook, stats, task_results,
                           wait_for_ssh)

STAGES = ["pod", "system_deps", "torch", "app", "models", "server", "front_door", "verify"]


def deploy(stack, tmp_path, known_hosts=None, **extra):
    env = stack.env()
    if known_hosts:
        env["FUNAUDIOCHAT_KNOWN_HOSTS"] = known_hosts
    extra_vars = stack.deploy_vars(pod_name="fac-deploy", gpu="A40", volume_gb=20, **extra)
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    rc, out, err = run_playbook("playbooks/deploy.yml", extra_vars=extra_vars, env=env)
    return rc, out, err, report


def host_keys(path, alias):
    """The key lines recorded for alias (the file also holds the collection's start notes)."""
    with open(path, encoding="utf-8") as handle:
        return [line for line in handle if line.startswith(alias + " ")]


def test_deploy_talks_at_the_end_reports_and_a_second_run_changes_nothing(sandbox_stack, tmp_path):
    # A fresh machine: the known-hosts file's directory does not exist yet.
    known_hosts = str(tmp_path / "fresh-ssh" / "known_hosts_runpod")
    rc, out, err, report = deploy(sandbox_stack, tmp_path, known_hosts=known_hosts)
    assert rc == 0, err[-3000:]
    results = dict(task_results(out, "fac-deploy"))
    spoken = results["Ask the shipped spoken question and judge the spoken answer"]
    assert spoken["passed"] is True and spoken["transcript"] == "The capital of France is Paris."
    url = results["funaudiochat.runpod.verify : Publish the first server's URL, the one the report shows"][
        "ansible_facts"]["verify_ws_url"]
    assert spoken["url"] == url
    pod = made_pods(out)["fac-deploy"]

    written = json.loads(report.read_text())["fac-deploy"]
    assert written["verdict"] == "PASSED" and written["passed"] is True and written["url"] == url
    assert written["pod"]["id"] == pod["id"] and written["pod"]["gpu"] == "A40"
    assert written["pod"]["cost_per_hr"] == pod["cost_per_hr"] > 0
    assert sorted(written["stages"], key=STAGES.index) == STAGES
    assert all(seconds > 0 for seconds in written["stages"].values()), written["stages"]
    assert sum(written["stages"].values()) <= written["run_seconds"] + 1
    # Billed from the pod's making to the end of the run: all of the run but its first checks.
    assert written["run_seconds"] - 30 < written["billed_seconds"] <= written["run_seconds"]
    assert written["cost_usd"] == round(pod["cost_per_hr"] * written["billed_seconds"] / 3600, 4)
    assert written["stopped_at"] is None and written["transcript"] == "The capital of France is Paris."

    text = out["report_text"]
    assert "FUN-AUDIO-CHAT REPORT" in text
    assert "fac-deploy: PASSED  %s" % url in text
    assert "  pod %s on A40 at %.2f USD/h; ssh root@%s -p %s" % (
        pod["id"], pod["cost_per_hr"], pod["ssh_host"], pod["ssh_port"]) in text
    assert "  stages: pod " in text and ", verify " in text and "cost so far" in text
    assert '  heard: "The capital of France is Paris."' in text

    # The pod's host key was learnt under its own alias, in the file the variable names.
    assert len(host_keys(known_hosts, "runpod-%s" % pod["id"])) == 1

    # The URL goes through the pod's front door, by the server's name; only SSH's and the door's ports are public.
    assert url == "ws://%s:%s/api/chat?server=fac-deploy.funaudiochat" % (pod["ssh_host"], pod["ports"]["8010"])
    assert sorted(pod["ports"]) == ["22", "8010"]
    # The owner's link, with the key this machine keeps (mode 0600), is in the report: the one place it is printed.
    key_file = os.path.join(sandbox_stack.env()["FUNAUDIOCHAT_SECRETS_DIR"], "fac-deploy.door-key")
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"
    key = door_key(sandbox_stack, "fac-deploy")
    assert ("  talk in a browser: https://%s-8000.proxy.runpod.net/login?key=%s (the owner's link" % (pod["id"], key)
            in text)
    assert written["web_page"]["login_url"] == "https://%s-8000.proxy.runpod.net/login" % pod["id"]
    # Nowhere else: not in the JSON report, nor in any task's result.
    assert key not in json.dumps(written) and key not in json.dumps(dict(out, report_text=""))

    # The ad hoc check the README documents, against the published URL, with the door's key from the environment;
    # without it, the door says it is locked.
    def adhoc(env):
        return subprocess.run([os.path.join(ANSIBLE_BIN, "ansible"), "localhost", "-m", "funaudiochat.runpod.s2s_check",
                               "-a", "url=%s" % url], capture_output=True, text=True, cwd=REPO_ROOT,
                              env=ansible_env(env), timeout=300, check=False)
    talked = adhoc(dict(sandbox_stack.env(), FUNAUDIOCHAT_DOOR_KEY=key))
    assert talked.returncode == 0, talked.stdout + talked.stderr
    assert "localhost | SUCCESS" in talked.stdout and "The capital of France is Paris." in talked.stdout
    assert key not in talked.stdout + talked.stderr
    locked = adhoc(sandbox_stack.env())
    assert locked.returncode != 0 and "answered HTTP 401" in locked.stdout and "pass its key (door_key)" in locked.stdout

    rc, again, err, _report = deploy(sandbox_stack, tmp_path, known_hosts=known_hosts)
    assert rc == 0, err[-3000:]
    assert stats(again, "fac-deploy")["changed"] == 0
    assert stats(again, "localhost")["changed"] == 0


def test_a_changed_host_key_stops_ssh_and_a_resume_learns_the_new_one(sandbox_stack, tmp_path):
    """Host keys are really checked; the pod's own restart (new keys, new port) is not an error,
    whether the collection restarted it or RunPod's console did."""
    env = sandbox_stack.env()
    known_hosts = tmp_path / "known_hosts_runpod"
    env["FUNAUDIOCHAT_KNOWN_HOSTS"] = str(known_hosts)
    created = run_module("pod", {"name": "fac-hostkey", "gpu": "A40", "image": "runpod/base:1.0.2-cuda1281-ubuntu2204",
                                 "ssh_public_key_file": env["SANDBOX_SSH_PUBLIC_KEY_FILE"], "wait_timeout": 120},
                         env=env)
    assert not created.get("failed"), created.get("msg")
    calls = []

    def adhoc():
        # A control-master connection of its own per call, so every call really checks the host key.
        calls.append(tmp_path / ("cp%d" % len(calls)))
        return subprocess.run(
            [os.path.join(ANSIBLE_BIN, "ansible"), "-i", "inventory/runpod.yml", "fac-hostkey", "-m", "ansible.builtin.ping",
             "-e", "ansible_python_interpreter=/usr/bin/python3"],
            capture_output=True, text=True, cwd=REPO_ROOT, timeout=300, check=False,
            env=ansible_env(dict(env, ANSIBLE_SSH_CONTROL_PATH_DIR=str(calls[-1]))))

    def adhoc_through_timeouts():
        # Under a full run's load a connect has timed out before SSH could say anything (seen twice, once right
        # after a resume whose SSH had just answered): asked again, as an operator would.
        return asked_again(adhoc, lambda result: "Connection timed out" in result.stdout + result.stderr)[-1]

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other_key = " ".join((tmp_path / "other.pub").read_text().split()[:2])

    try:
        first = adhoc_through_timeouts()
        assert first.returncode == 0, first.stdout + first.stderr
        alias = "runpod-%s" % created["id"]
        learnt = known_hosts.read_text()
        assert len(host_keys(known_hosts, alias)) == 1
        # Another machine's key under this pod's alias: SSH must refuse, loudly.
        known_hosts.write_text("%s %s\n" % (alias, other_key))
        refused = adhoc_through_timeouts()
        assert refused.returncode != 0
        assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in refused.stdout + refused.stderr
        # A stop and start through the collection forgets the old key; the new one is learnt.
        known_hosts.write_text(learnt)
        for state in ("stopped", "running"):
            moved = run_module("pod", {"id": created["id"], "state": state, "wait_timeout": 120}, env=env)
            assert not moved.get("failed"), moved.get("msg")
        assert host_keys(known_hosts, alias) == []
        after = adhoc_through_timeouts()
        assert after.returncode == 0, after.stdout + after.stderr
        resumed = host_keys(known_hosts, alias)
        assert len(resumed) == 1 and resumed != host_keys_of(learnt, alias)

        # Stopped and resumed outside the collection (RunPod's console), its start noted an hour before:
        # the inventory sees the new start in the pod's uptime, forgets the old key and learns the new one.
        known_hosts.write_text(re.sub(r"(# funaudiochat-start %s )(\d+)" % alias,
                                      lambda match: match.group(1) + str(int(match.group(2)) - 3600),
                                      known_hosts.read_text()))
        subprocess.run([sys.executable, "-c", "import os, runpod; runpod.api_key = os.environ['RUNPOD_API_KEY']; "
                        "runpod.stop_pod(os.environ['POD']); runpod.resume_pod(os.environ['POD'], 1)"],
                       env=dict(os.environ, POD=created["id"], **env), check=True, timeout=120)
        pod = booted(created["id"], env)
        wait_for_ssh(pod["ssh_host"], pod["ssh_port"], env["SANDBOX_SSH_KEY"])
        outside = adhoc_through_timeouts()
        assert outside.returncode == 0, outside.stdout + outside.stderr
        assert len(host_keys(known_hosts, alias)) == 1 and host_keys(known_hosts, alias) != resumed
    finally:
        run_module("pod", {"name": "fac-hostkey", "state": "absent"}, env=env)


def booted(pod_id, env, timeout=120):
    """The pod once RunPod reports its SSH mapping (pod_info, polled)."""
    deadline = time.monotonic() + timeout
    while True:
        pods = run_module("pod_info", {"id": pod_id}, env=env)["pods"]
        if pods and pods[0].get("ssh_port"):
            return pods[0]
        assert time.monotonic() < deadline, "pod %s has no SSH mapping after %ss: %s" % (pod_id, timeout, pods)
        time.sleep(1)


def host_keys_of(text, alias):
    return [line + "\n" for line in text.splitlines() if line.startswith(alias + " ")]


def test_a_broken_server_fails_the_run_and_the_report_names_the_cause(sandbox_stack, tmp_path):
    # Upstream's default --tts-gpu 1 on a one-GPU pod: the TTS worker dies silently.
    try:
        rc, out, err, report = deploy(sandbox_stack, tmp_path, tts_gpu=1, server_ready_timeout=15)
    finally:  # the next tests' inventory (fac-*) should not find this broken pod
        run_module("pod", {"name": "fac-deploy", "state": "absent"}, env=sandbox_stack.env())
    assert rc != 0
    failed = [result for _name, result in task_results(out, "fac-deploy") if result.get("failed")]
    assert "did not become ready within 15s" in failed[-1]["msg"]
    assert "Starting TTS worker process on cuda:1" in failed[-1]["msg"]  # the server's last log lines

    written = json.loads(report.read_text())["fac-deploy"]
    assert written["verdict"] == "FAILED at server" and written["passed"] is False
    assert written["stopped_at"]["stage"] == "server"
    assert "Starting TTS worker process on cuda:1" in written["stopped_at"]["msg"]
    assert "verify" not in written["stages"] and written["transcript"] is None
    text = out["report_text"]
    assert "fac-deploy: FAILED at server" in text
    assert "stopped at server, task \"Fail with the server's last log lines\": Fun-Audio-Chat did not become ready" in text
