"""CPU pods (deployCpuPod) and the Secure-Cloud-only rule of network volumes, through the pod module.

What a prefetch relies on: a CPU pod is made on an instance id, costs what RunPod lists for it, mounts the
network volume in the volume's data center, and bad input (a CPU pod with a pod volume, more disk than the
flavour allows, an instance RunPod does not offer, Community Cloud with a network volume) is one line before
anything is sent. A GPU pod and a CPU pod mount the same network volume at once.
"""

import pytest

from tests.helpers import run_module

IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"
CPU = dict(name="fac-fill", instance_id=["cpu3c-2-4"], image=IMAGE, ports=["22/tcp"], container_disk_gb=20,
           wait_timeout=30)


def refused(module, args):
    """The module's failure message (it must fail)."""
    result = run_module(module, args)
    assert result.get("failed") is True, result
    return result["msg"]


def volume(sandbox, data_center="EU-RO-1"):
    return run_module("network_volume", dict(name="cache", size_gb=50, data_center_id=data_center))["volume"]


def test_a_cpu_pod_is_made_on_its_instance_priced_as_listed_and_unchanged_after(sandbox):
    checked = run_module("pod", CPU, check=True, diff=True)
    assert checked["changed"] is True and checked["pod"]["gpu_count"] == 0
    assert sandbox.pods() == []

    made = run_module("pod", CPU)
    assert made["changed"] is True and made["pod"]["status"] == "RUNNING", made
    assert made["pod"]["gpu_count"] == 0 and made["pod"].get("gpu") is None
    assert made["attempts"] == [{"gpu": "cpu3c-2-4", "cloud_type": "SECURE", "data_center": None, "result": "created"}]
    listed = run_module("gpu_info", dict(instance_id=["cpu3c-2-4"]))["cpus"][0]
    assert made["cost_per_hr"] == listed["price_per_hr"] > 0
    assert made["ssh_port"] > 0

    again = run_module("pod", CPU)
    assert again["changed"] is False and again["id"] == made["id"] and again["drift"] == []

    # Stopped and started again: resumed with its id only, no GPU count asked for.
    assert run_module("pod", dict(CPU, state="stopped"))["changed"] is True
    sandbox.clear_requests()
    resumed = run_module("pod", dict(CPU, state="running"))
    assert resumed["changed"] is True and resumed["pod"]["status"] == "RUNNING" and resumed["id"] == made["id"]
    sent = [r["query"] for r in sandbox.requests() if "podResume" in r["operations"]]
    assert len(sent) == 1 and "gpuCount" not in sent[0], sent
    assert run_module("pod", dict(name="fac-fill", state="absent"))["changed"] is True


def test_several_cpu_instances_are_read_in_one_query_each_with_its_own_price(sandbox):
    wanted = ["cpu3c-4-8", "cpu3g-4-16", "cpu5c-4-8", "cpu3c-2-4"]
    sandbox.clear_requests()
    cpus = run_module("gpu_info", dict(instance_id=wanted))["cpus"]
    assert [cpu["id"] for cpu in cpus] == wanted  # in the order asked
    prices = dict((cpu["id"], cpu["price_per_hr"]) for cpu in cpus)
    assert prices["cpu3c-4-8"] == 2 * prices["cpu3c-2-4"] > 0  # priced per vCPU-hour
    assert len([r for r in sandbox.requests() if "cpuFlavors" in r["query"]]) == 1


def test_the_unmodified_sdk_makes_a_cpu_pod_the_same_way(sdk):
    made = sdk.create_pod("fac-sdk-cpu", IMAGE, instance_id="cpu3g-4-16")
    pod = sdk.get_pod(made["id"])
    assert pod["desiredStatus"] == "RUNNING" and pod["gpuCount"] == 0 and pod["vcpuCount"] == 4


def test_cpu_pods_and_network_volumes_share_one_data_center(sandbox):
    shared = volume(sandbox)
    cpu = run_module("pod", dict(CPU, network_volume_id=shared["id"]))
    gpu = run_module("pod", dict(name="fac-1", gpu=["A40"], image=IMAGE, ports=["22/tcp"], wait_timeout=30,
                                 network_volume_id=shared["id"]))
    assert cpu["pod"]["network_volume_id"] == gpu["pod"]["network_volume_id"] == shared["id"]
    assert cpu["pod"]["data_center"] == gpu["pod"]["data_center"] == "EU-RO-1"
    # Asked for COMMUNITY first (the default order), a pod with a network volume is only tried in Secure Cloud.
    assert [a["cloud_type"] for a in gpu["attempts"]] == ["SECURE"]

    elsewhere = refused("pod", dict(CPU, name="fac-fill-2", network_volume_id=shared["id"],
                                    data_center_ids=["US-TX-3"]))
    assert "No capacity for pod 'fac-fill-2'" in elsewhere
    assert sorted(p["name"] for p in sandbox.pods()) == ["fac-1", "fac-fill"]


def test_secure_cloud_sold_out_with_a_network_volume_is_not_tried_in_community(sandbox):
    shared = volume(sandbox)
    sandbox.set_stock("NVIDIA A40", "SECURE", 0)
    failed = refused("pod", dict(name="fac-1", gpu=["A40"], image=IMAGE, ports=["22/tcp"], wait_timeout=30,
                                 network_volume_id=shared["id"]))
    assert "NVIDIA A40/SECURE: no capacity" in failed and "NVIDIA A40/COMMUNITY" not in failed, failed
    assert sandbox.pods() == []


@pytest.mark.parametrize("args,expected", [
    (dict(volume_gb=20), "volume_gb: a CPU pod has no pod volume (got 20)"),
    (dict(container_disk_gb=30), "container_disk_gb: 30 GB is more than cpu3c-2-4 allows (20 GB, 10 GB per vCPU)"),
    (dict(instance_id=["cpu3c-2-8"]), "instance_id: RunPod offers no CPU instance 'cpu3c-2-8'"),
    (dict(instance_id=["big"]), "instance_id: 'big' is not a valid CPU instance id"),
    (dict(cloud_type=["COMMUNITY"]), "cloud_type: COMMUNITY cannot be used with a CPU pod"),
    (dict(gpu=["A40"]), "parameters are mutually exclusive: gpu|instance_id"),
])
def test_bad_cpu_pod_input_is_one_line_and_nothing_is_made(sandbox, args, expected):
    failed = refused("pod", dict(CPU, **args))
    assert expected in failed and "\n" not in failed, failed
    assert sandbox.pods() == []


def test_community_cloud_alone_with_a_network_volume_is_refused_before_sending(sandbox):
    shared = volume(sandbox)
    failed = refused("pod", dict(name="fac-1", gpu=["A40"], image=IMAGE, cloud_type=["COMMUNITY"],
                                 network_volume_id=shared["id"]))
    assert failed.startswith("cloud_type: COMMUNITY cannot be used with a network volume"), failed
    assert sandbox.pods() == []
