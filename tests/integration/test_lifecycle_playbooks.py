"""The shipped playbooks against the sandbox: each operation check mode -> real -> again unchanged.

deploy.yml runs with ``--tags pod``: its pod stage (the memory sandbox's pods
answer SSH with a banner only; the roles and the spoken check are tested on
container pods in test_roles.py and test_deploy.py).
"""

import pytest

from tests.helpers import run_playbook, stats, task_results


def converge(playbook, extra_vars):
    """Check mode, real run, second run: return the three outputs after asserting the pattern."""
    tags = "pod" if playbook.endswith("deploy.yml") else None
    rc, checked, err = run_playbook(playbook, extra_vars, check=True, tags=tags)
    assert rc == 0, err
    rc, real, err = run_playbook(playbook, extra_vars, tags=tags)
    assert rc == 0, err
    rc, again, err = run_playbook(playbook, extra_vars, tags=tags)
    assert rc == 0, err
    assert stats(checked)["changed"] >= 1
    assert stats(real)["changed"] >= 1
    assert stats(again)["changed"] == 0, task_results(again)
    return checked, real, again


@pytest.fixture
def deployed(sandbox):
    vars_ = {"pod_name": "fac-it", "gpu": ["A40", "L40S"], "wait_timeout": 60}
    checked, real, again = converge("playbooks/deploy.yml", vars_)
    return sandbox, real


def test_deploy_creates_one_pod_and_reports_ssh(deployed):
    sandbox, real = deployed
    pods = sandbox.pods()
    assert [p["name"] for p in pods] == ["fac-it"]
    created = dict(task_results(real))["Create or start the pod, failing over across GPUs and cloud types"]
    assert created["ssh_port"] and created["gpu"] == "A40"


def test_deploy_fails_over_when_the_first_gpu_is_gone(sandbox):
    sandbox.set_stock("NVIDIA A40", "ALL", 0)
    rc, out, err = run_playbook("playbooks/deploy.yml", {"pod_name": "fac-fo", "gpu": ["A40", "L40S"]}, tags="pod")
    assert rc == 0, err
    assert [p["machine"]["gpuTypeId"] for p in sandbox.pods()] == ["NVIDIA L40S"]


def test_stop_resume_terminate(deployed):
    sandbox, _real = deployed
    converge("playbooks/stop.yml", {"pod_name": "fac-it"})
    assert sandbox.pods()[0]["desiredStatus"] == "EXITED"
    converge("playbooks/resume.yml", {"pod_name": "fac-it", "wait_timeout": 60})
    assert sandbox.pods()[0]["desiredStatus"] == "RUNNING"
    rc, out, err = run_playbook("playbooks/status.yml", {})
    assert rc == 0 and "fac-it" in str(out)
    converge("playbooks/terminate.yml", {"pod_name": "fac-it"})
    assert sandbox.pods() == []


def test_terminate_by_prefix_needs_confirmation(deployed):
    sandbox, _real = deployed
    rc, out, err = run_playbook("playbooks/terminate.yml", {"name_prefix": "fac-"})
    assert rc != 0 and "confirm=yes" in str(out)
    assert len(sandbox.pods()) == 1


def test_bad_gpu_through_a_playbook_is_one_clear_line(sandbox):
    rc, out, err = run_playbook("playbooks/deploy.yml", {"gpu": "B9000"}, json_output=False, tags="pod")
    assert rc == 2
    failed = [line for line in out.splitlines() if "FAILED!" in line or "fatal:" in line]
    assert failed and "unknown GPU 'B9000'" in out
    assert sandbox.pods() == []


def test_api_key_is_not_printed_at_any_verbosity(sandbox):
    rc, out, err = run_playbook("playbooks/deploy.yml", {"pod_name": "fac-v", "wait_timeout": 60},
                                json_output=False, verbosity=4, tags="pod")
    assert rc == 0, out[-3000:]
    assert sandbox.api_key not in out + err
