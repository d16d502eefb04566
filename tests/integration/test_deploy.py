"""deploy.yml end to end on a sandbox container pod: pod, the six roles, the spoken check.

What users run: `ansible-playbook playbooks/deploy.yml -e gpu=A40` (here with
the sandbox's role variables). It must end with a passing spoken check,
reported per host; a second run changes nothing; a server that never gets
ready fails the run with its cause.
"""

import json

from tests.helpers import run_module, run_playbook, stats, task_results


def deploy(stack, tmp_path, **extra):
    env = stack.env()
    extra_vars = dict(stack.role_vars(), pod_name="fac-deploy", gpu="A40", volume_gb=20,
                      ssh_public_key_file=env["SANDBOX_SSH_PUBLIC_KEY_FILE"], **extra)
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    rc, out, err = run_playbook("playbooks/deploy.yml", extra_vars=extra_vars, env=env)
    return rc, out, err, report


def test_deploy_talks_at_the_end_and_a_second_run_changes_nothing(sandbox_stack, tmp_path):
    rc, out, err, report = deploy(sandbox_stack, tmp_path)
    assert rc == 0, err[-3000:]
    spoken = dict(task_results(out, "fac-deploy"))["Ask the shipped spoken question and judge the spoken answer"]
    assert spoken["passed"] is True and spoken["transcript"] == "The capital of France is Paris."
    assert spoken["url"] == dict(task_results(out, "fac-deploy"))[
        "funaudiochat.runpod.verify : Publish the websocket URL and the GPUs"]["ansible_facts"]["verify_ws_url"]
    written = json.loads(report.read_text())
    assert written["fac-deploy"]["passed"] is True

    rc, again, err, _report = deploy(sandbox_stack, tmp_path)
    assert rc == 0, err[-3000:]
    assert stats(again, "fac-deploy")["changed"] == 0
    assert stats(again, "localhost")["changed"] == 0


def test_a_server_that_never_gets_ready_fails_the_run_with_its_cause(sandbox_stack, tmp_path):
    # Upstream's default --tts-gpu 1 on a one-GPU pod: the TTS worker dies silently.
    try:
        rc, out, err, _report = deploy(sandbox_stack, tmp_path, server_tts_gpu="1", server_ready_timeout=15)
    finally:  # the next tests' inventory (fac-*) should not find this broken pod
        run_module("pod", {"name": "fac-deploy", "state": "absent"}, env=sandbox_stack.env())
    assert rc != 0
    failed = [result for _name, result in task_results(out, "fac-deploy") if result.get("failed")]
    assert "did not become ready within 15s" in failed[-1]["msg"]
    assert "Starting TTS worker process on cuda:1" in failed[-1]["msg"]  # the server's last log lines
