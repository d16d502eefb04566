"""Faults of RunPod's API over deploy.yml's pod stage and the inventory (the memory sandbox).

Each case: the fault is injected, deploy.yml runs; it either rides the fault
out, or stops with one clear line; never a duplicate or orphan pod; the next
run completes with exactly one pod. docs/RELIABILITY.md lists what users see.
"""

import json
import os
import subprocess

import pytest

from tests.helpers import ANSIBLE_BIN, REPO_ROOT, ansible_env, pod_stage_vars, run_playbook

CREATE = "podFindAndDeployOnDemand"

# Faults the run rides out: retried reads, 429s honoured, a lost answer looked up by name.
RIDDEN_OUT = {
    "429 burst on create": [dict(kind="status", status=429, count=3, retry_after=1, operation=CREATE)],
    "5xx after the create": [dict(kind="after", status=502, operation=CREATE)],
    "generic error after the create": [dict(kind="error", operation=CREATE, carry_out=True,
                                            message="Something went wrong. Please try again later or contact support.")],
    "5xx during the SSH wait": [dict(kind="status", status=503, count=3, operation="pod")],
    "slow answers during the SSH wait": [dict(kind="delay", seconds=3, count=2, operation="pod")],
    "dropped connections during the SSH wait": [dict(kind="drop", count=2, operation="pod")],
    "429 burst on the lookups": [dict(kind="status", status=429, count=4, retry_after=1, operation="myself")],
}
# Faults after which RunPod's state is unknown: one clear line, nothing made twice, the next run completes.
STOPPED = {
    "5xx before the create": ([dict(kind="status", status=503, operation=CREATE)], "did not confirm creating pod"),
    "dropped connection on create": ([dict(kind="drop", operation=CREATE)], "did not confirm creating pod"),
}


def deploy(sandbox, **extra):
    return run_playbook("playbooks/deploy.yml", pod_stage_vars(sandbox, gpu="A40", wait_timeout=60, **extra),
                        json_output=False, tags="pod")


def one_pod(sandbox):
    pods = sandbox.pods()
    assert [pod["name"] for pod in pods] == ["fac-1"], pods
    return pods[0]


@pytest.mark.parametrize("name", sorted(RIDDEN_OUT))
def test_deploy_rides_out(sandbox, name):
    for rule in RIDDEN_OUT[name]:
        sandbox.fault(**rule)
    rc, out, _err = deploy(sandbox)
    assert rc == 0, out[-3000:]
    one_pod(sandbox)
    assert deploy(sandbox)[0] == 0 and len(sandbox.pods()) == 1


@pytest.mark.parametrize("name", sorted(STOPPED))
def test_deploy_stops_clearly_then_the_next_run_completes(sandbox, name):
    rules, words = STOPPED[name]
    for rule in rules:
        sandbox.fault(**rule)
    rc, out, _err = deploy(sandbox)
    assert rc == 2
    fatal = [line for line in out.splitlines() if line.startswith("[ERROR]")]
    assert len(fatal) == 1 and words in fatal[0] and "run the task again" in fatal[0], out[-2000:]
    assert len(sandbox.pods()) <= 1  # never two
    rc, out, _err = deploy(sandbox)
    assert rc == 0, out[-3000:]
    one_pod(sandbox)


def inventory(config, env, *extra):
    proc = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-inventory"), "-i", str(config), "--list"] + list(extra),
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=300, check=False,
                          env=ansible_env(dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED="true")))
    return proc


def test_the_inventory_says_runpod_is_unreachable_or_falls_back_to_its_cache(sandbox, tmp_path):
    assert deploy(sandbox)[0] == 0
    dead = {"RUNPOD_API_BASE_URL": "http://127.0.0.1:9"}  # nothing listens there
    plain = tmp_path / "plain.runpod.yml"
    plain.write_text("plugin: funaudiochat.runpod.pods\napi_retry_deadline: 2\n")
    failed = inventory(plain, dead)
    assert failed.returncode != 0 and "RunPod is unreachable" in failed.stderr, failed.stderr
    assert "no cached inventory" not in failed.stderr

    cached = tmp_path / "cached.runpod.yml"
    cached.write_text("plugin: funaudiochat.runpod.pods\napi_retry_deadline: 2\ncache: true\n"
                      "cache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\n" % (tmp_path / "cache"))
    first = inventory(cached, {})
    assert first.returncode == 0 and "fac-1" in json.loads(first.stdout)["_meta"]["hostvars"]
    # A refresh (--flush-cache) asks RunPod, which does not answer: the cached pods are used.
    fallback = inventory(cached, dead, "--flush-cache")
    assert fallback.returncode == 0, fallback.stderr
    assert "using the cached inventory" in fallback.stderr
    assert "fac-1" in json.loads(fallback.stdout)["_meta"]["hostvars"]
