"""A fleet's pods: deploy.yml -e pod_count=N with --tags pod on the memory sandbox (its pods answer SSH with a
banner only; the fleet's front door, spoken checks and rolling re-provision run on container pods in
test_fleet.py, a slow suite).

What operators rely on: the pods are named <fleet>-1..N and made at once in the background; a re-run makes no
pod twice and changes nothing; check mode makes none; a pod RunPod has no GPU for is named in the run's
failure while the others are made; a lower pod_count ends only the fleet's highest-numbered pods, only with
confirm=yes, and never a pod of another name or another fleet. With a new network volume, check mode says what
the CPU prefetch would do and makes nothing, and --tags pod makes no CPU pod.
"""

from tests.helpers import made_pods, pod_stage_vars, run_module, run_playbook, stats, task_results

CREATE = "Create or start the pods, failing over across GPUs and cloud types"
IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"


def deploy(sandbox, check=False, **extra):
    extra_vars = pod_stage_vars(sandbox, **dict({"gpu": "A40", "wait_timeout": 60}, **extra))
    return run_playbook("playbooks/deploy.yml", extra_vars, check=check, tags="pod")


def names(sandbox):
    return sorted(pod["name"] for pod in sandbox.pods())


def test_a_fleet_is_made_at_once_and_a_rerun_makes_no_pod_twice(sandbox):
    rc, checked, err = deploy(sandbox, check=True, pod_count=3)
    assert rc == 0, err
    assert stats(checked)["changed"] >= 1 and names(sandbox) == []

    rc, real, err = deploy(sandbox, pod_count=3)
    assert rc == 0, err
    assert names(sandbox) == ["fac-1", "fac-2", "fac-3"]
    # Each started in the background, then waited for together.
    assert all(item.get("ansible_job_id") for item in dict(task_results(real))[CREATE]["results"])
    pods = made_pods(real)
    assert sorted(pods) == ["fac-1", "fac-2", "fac-3"]
    assert [pods[name]["pod"]["fleet"] for name in sorted(pods)] == ["fac"] * 3
    waited = dict(task_results(real))["Wait for the pods, made at once"]["results"]
    assert [item["changed"] for item in waited] == [True] * 3

    rc, again, err = deploy(sandbox, pod_count=3)
    assert rc == 0, err
    assert stats(again)["changed"] == 0, task_results(again)
    assert names(sandbox) == ["fac-1", "fac-2", "fac-3"]


def test_a_pod_without_a_gpu_is_named_and_the_others_are_made(sandbox):
    sandbox.set_stock("NVIDIA A40", "ALL", 2)
    rc, out, _err = deploy(sandbox, pod_count=3, cloud_type=["SECURE"])
    assert rc == 2
    made = names(sandbox)
    assert len(made) == 2 and set(made) < {"fac-1", "fac-2", "fac-3"}
    (missing,) = {"fac-1", "fac-2", "fac-3"} - set(made)
    # The run fails last, after the plays that provision and check the pods that were made (skipped here with
    # --tags pod), in one line naming the missing pod and RunPod's reason.
    results = task_results(out)
    assert results[-1][0] == "Fail for the pods that could not be made (the others were provisioned and checked)"
    failure = results[-1][1]["msg"]
    assert failure.startswith("%s: No capacity for pod '%s'" % (missing, missing)), failure
    assert "Re-run the same command when RunPod has the GPUs" in failure
    # The pods that were made are in this run's inventory, for the roles.
    added = dict(task_results(out))["Add the pods to this run's inventory"]["results"]
    assert sorted(item["add_host"]["host_name"] for item in added) == made


def test_a_smaller_fleet_needs_the_go_ahead_and_ends_only_its_highest_pods(sandbox, sdk):
    rc, _out, err = deploy(sandbox, pod_count=3)
    assert rc == 0, err
    image = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"
    sdk.create_pod("fac-x", image, "NVIDIA A40", ports="22/tcp")         # in no fleet
    sdk.create_pod("fac-extra-4", image, "NVIDIA A40", ports="22/tcp")   # fleet fac-extra, same name prefix
    everyone = ["fac-1", "fac-2", "fac-3", "fac-extra-4", "fac-x"]

    sandbox.clear_requests()
    rc, out, _err = deploy(sandbox, pod_count=2)
    assert rc == 2
    refusal = dict(task_results(out))["Refuse to terminate pods without the go-ahead"]["msg"]
    assert refusal == ("Fleet fac has 1 pod(s) beyond pod_count=2 (fac-3): re-run with -e confirm=yes to terminate "
                       "them, or with -e pod_count=3 to keep them")
    assert names(sandbox) == everyone
    sent = [op for entry in sandbox.requests() for op in entry["operations"]]
    assert "podTerminate" not in sent and "podFindAndDeployOnDemand" not in sent, sent

    rc, out, err = deploy(sandbox, pod_count=2, confirm="yes")
    assert rc == 0, err
    assert names(sandbox) == ["fac-1", "fac-2", "fac-extra-4", "fac-x"]


def test_a_new_network_volume_is_prefetched_only_for_real_and_not_with_tags_pod(sandbox):
    volume = {"network_volume": "fac-cache", "network_volume_gb": 20, "network_volume_data_center": "EU-RO-1"}
    # Check mode says what the prefetch would do, and makes neither a volume nor a pod.
    extra_vars = pod_stage_vars(sandbox, **dict({"gpu": "A40", "wait_timeout": 60}, **volume))
    rc, checked, err = run_playbook("playbooks/deploy.yml", extra_vars, check=True, tags="pod,prefetch")
    assert rc == 0, err
    said = dict(task_results(checked))["Say what the prefetch would do (check mode makes no pod)"]["msg"]
    assert said == ("A CPU pod (cpu3c-4-8 or cpu3g-4-16 or cpu5c-4-8) would fill network volume fac-cache and be "
                    "terminated before the GPU pod is made")
    assert names(sandbox) == [] and sandbox.admin("GET", "state")["state"]["network_volumes"] == {}
    # --tags pod makes the GPU pod only: no CPU pod is made (none could be left behind unfilled).
    rc, real, err = deploy(sandbox, **volume)
    assert rc == 0, err
    assert names(sandbox) == ["fac-1"]
    assert "Create the CPU pod in the volume's data center" not in dict(task_results(real))


def test_a_cpu_pod_an_unfinished_prefetch_left_is_terminated_by_the_next_run(sandbox):
    volume = {"network_volume": "fac-cache", "network_volume_gb": 20, "network_volume_data_center": "EU-RO-1"}
    rc, _out, err = deploy(sandbox, **volume)  # the volume, and fac-1 on it
    assert rc == 0, err
    # A prefetch whose controller was killed: its CPU pod is still there, billing (made here as the prefetch makes it).
    left = run_module("pod", {"name": "fac-cache-prefetch", "instance_id": ["cpu3c-4-8"], "image": IMAGE,
                              "ports": ["22/tcp"], "container_disk_gb": 40, "wait": False})
    assert left.get("changed"), left
    rc, out, err = run_playbook("playbooks/prefetch.yml", pod_stage_vars(sandbox, **volume))
    assert rc == 0, err
    ended = dict(task_results(out))["Terminate the CPU pod an unfinished prefetch left"]["results"]
    assert [item["item"]["id"] for item in ended] == [left["id"]] and ended[0]["changed"]
    # The volume was there before (prefetch=auto): nothing else is made, and the GPU pod is left alone.
    assert names(sandbox) == ["fac-1"]
