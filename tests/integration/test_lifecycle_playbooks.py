"""The shipped playbooks against the sandbox: each operation check mode -> real -> again unchanged.

deploy.yml runs with ``--tags pod``: its pod stage (the memory sandbox's pods
answer SSH with a banner only; the roles and the spoken check are tested on
container pods in test_roles.py and test_deploy.py).
"""

import pytest

from tests.helpers import made_pods, pod_stage_vars, run_playbook, stats, task_results


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
    vars_ = pod_stage_vars(sandbox, pod_name="fac-it", gpu=["A40", "L40S"], wait_timeout=60)
    checked, real, again = converge("playbooks/deploy.yml", vars_)
    return sandbox, real


def test_deploy_creates_one_pod_and_reports_ssh(deployed):
    sandbox, real = deployed
    pods = sandbox.pods()
    assert [p["name"] for p in pods] == ["fac-it"]
    created = made_pods(real)["fac-it"]
    assert created["ssh_port"] and created["gpu"] == "A40"


def test_deploy_fails_over_when_the_first_gpu_is_gone(sandbox):
    sandbox.set_stock("NVIDIA A40", "ALL", 0)
    rc, out, err = run_playbook("playbooks/deploy.yml", pod_stage_vars(sandbox, pod_name="fac-fo", gpu=["A40", "L40S"]),
                                tags="pod")
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
    rc, out, err = run_playbook("playbooks/deploy.yml", pod_stage_vars(sandbox, gpu="B9000"), json_output=False, tags="pod")
    assert rc == 2
    failed = [line for line in out.splitlines() if "FAILED!" in line or "fatal:" in line]
    assert failed and "unknown GPU 'B9000'" in out
    assert sandbox.pods() == []


def test_without_an_ssh_key_deploy_says_how_to_make_one_or_takes_the_keys_text(sandbox, tmp_path):
    rc, out, err = run_playbook("playbooks/deploy.yml", {"gpu": "A40"}, json_output=False, tags="pod",
                                env={"HOME": str(tmp_path)})  # a fresh machine: no ~/.ssh
    assert rc == 2
    assert "No SSH public key found in ~/.ssh" in out and "ssh-keygen -t ed25519" in out
    assert sandbox.pods() == []
    # The key's text instead (AWX, Automation Platform): the pod gets it as PUBLIC_KEY.
    with open(sandbox.public_key_file, encoding="utf-8") as handle:
        key = handle.read().strip()
    rc, out, err = run_playbook("playbooks/deploy.yml", {"gpu": "A40", "ssh_public_key": key, "wait_timeout": 60},
                                tags="pod", env={"HOME": str(tmp_path)})
    assert rc == 0, err
    assert [pod["name"] for pod in sandbox.pods()] == ["fac-1"]
    assert "PUBLIC_KEY=" + key in sandbox.pods()[0]["env"]


def test_status_is_one_table(deployed):
    sandbox, real = deployed
    pod = made_pods(real)["fac-it"]
    rc, out, err = run_playbook("playbooks/status.yml", {})
    assert rc == 0, err
    lines = dict(task_results(out))["Show the pods"]["msg"].splitlines()
    assert lines[0].split() == ["POD", "ID", "STATUS", "GPU", "USD/H", "USD", "SINCE", "START", "SSH", "WEBSOCKET",
                                "SERVER", "IDLE", "STOPS", "AT", "FRONT", "DOOR"]
    row = lines[1]
    assert row.startswith("fac-it  ") and pod["id"] in row and " RUNNING " in row and " A40 " in row
    assert "%.2f" % pod["cost_per_hr"] in row and "root@%s -p %s" % (pod["ssh_host"], pod["ssh_port"]) in row
    # The servers are not published (they sit behind the front door), and the memory sandbox's pods run no front
    # door: the probe through it says so.
    assert "8002" not in pod["ports"] and " down: " in row
    # Nor do they let anyone log in, so their idle-stop state cannot be read.
    assert " unreachable over SSH " in row
    # deploy.yml publishes the front door: its URL, and its HTTPS address through RunPod's proxy (no web page:
    # nothing answers on the memory sandbox's pods).
    assert row.rstrip().endswith("ws://%s:%s/api/chat" % (pod["ssh_host"], pod["ports"]["8010"]))
    https = dict(task_results(out))["Show the front door's HTTPS addresses of each running pod that has a front door"]
    assert [item["msg"] for item in https["results"]] == [
        "fac-it: wss://%s-8000.proxy.runpod.net/api/chat (Authorization: Bearer, the door's key)" % pod["id"]]


def test_gpus_lists_the_types_with_prices_and_stock(sandbox):
    sandbox.set_stock("NVIDIA L40S", "SECURE", 0)
    rc, out, err = run_playbook("playbooks/gpus.yml", {"gpu": "A40,L40S"})
    assert rc == 0, err
    lines = dict(task_results(out))["Show them (USD per GPU and hour)"]["msg"].splitlines()
    assert lines[0].split()[:3] == ["GPU", "ID", "MEMORY"] and len(lines) == 3
    assert lines[1].startswith("A40 ") and "48 GB" in lines[1] and "0.44" in lines[1]
    assert lines[2].startswith("L40S") and "secure" not in lines[2].split("  ")[-1]
    rc, out, err = run_playbook("playbooks/gpus.yml", {"min_vram_gb": 80})
    table = dict(task_results(out))["Show them (USD per GPU and hour)"]["msg"].splitlines()
    names = [line.split()[0] for line in table[1:]]
    assert names and "A40" not in names and all(name.startswith(("A100", "H100", "H200")) for name in names), names


def test_api_key_is_not_printed_at_any_verbosity(sandbox):
    rc, out, err = run_playbook("playbooks/deploy.yml", pod_stage_vars(sandbox, pod_name="fac-v", wait_timeout=60),
                                json_output=False, verbosity=4, tags="pod")
    assert rc == 0, out[-3000:]
    assert sandbox.api_key not in out + err


def test_template_playbook_converges_and_removes(sandbox):
    checked, real, again = converge("playbooks/template.yml", {"template_name": "fac-tpl"})
    made = dict(task_results(real))["Create or update the template"]["template"]
    assert made["name"] == "fac-tpl" and made["id"]
    converge("playbooks/template.yml", {"template_name": "fac-tpl", "state": "absent"})


def test_deploy_with_a_network_volume_creates_it_once_and_mounts_it(sandbox):
    extra = pod_stage_vars(sandbox, pod_name="fac-nv", gpu="A40", wait_timeout=60, network_volume="fac-models",
                           network_volume_gb=20, network_volume_data_center="EU-RO-1")
    rc, real, err = run_playbook("playbooks/deploy.yml", extra, tags="pod")
    assert rc == 0, err
    volume = dict(task_results(real))["Create or reuse the network volume"]["volume"]
    pod = [p for p in sandbox.pods() if p["name"] == "fac-nv"][0]
    assert pod["networkVolumeId"] == volume["id"] and pod["volumeMountPath"] == "/workspace"
    assert pod["machine"]["dataCenterId"] == "EU-RO-1"  # placed where the volume is
    rc, again, err = run_playbook("playbooks/deploy.yml", extra, tags="pod")
    assert rc == 0 and stats(again)["changed"] == 0, err
    # Another pod on the volume while fac-nv runs: refused in one line before any pod is made.
    other = dict(extra, pod_name="fac-nv-2")
    rc, refused, err = run_playbook("playbooks/deploy.yml", other, tags="pod")
    failed = [result for _name, result in task_results(refused) if result.get("failed")]
    assert rc != 0 and len(failed) == 1, err
    message = failed[0]["msg"]
    assert "\n" not in message.strip(), message
    assert message.startswith("Network volume fac-models (%s) is mounted by running pod(s) fac-nv, " % volume["id"])
    assert "playbooks/stop.yml -e pod_name=fac-nv" in message
    assert [p["name"] for p in sandbox.pods()] == ["fac-nv"]
    # Stopped, it serves no more: the other pod is made.
    rc, _out, err = run_playbook("playbooks/stop.yml", {"pod_name": "fac-nv"})
    assert rc == 0, err
    rc, _out, err = run_playbook("playbooks/deploy.yml", other, tags="pod")
    assert rc == 0, err
    assert sorted(p["name"] for p in sandbox.pods()) == ["fac-nv", "fac-nv-2"]
