"""pod_info and gpu_info against the sandbox."""

from tests.helpers import run_module


def test_pod_info_filters_and_shapes_like_pod(sandbox):
    made = run_module("pod", dict(name="fac-a", gpu="A40", image="runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", ports="22/tcp,8002/tcp"))
    run_module("pod", dict(name="other", gpu="L40S", image="runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", wait=False))
    run_module("pod", dict(name="fac-b", gpu="4090", image="runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", wait=False))
    run_module("pod", dict(name="fac-b", state="stopped"))

    everything = run_module("pod_info", {})
    assert [p["name"] for p in everything["pods"]] == ["fac-a", "fac-b", "other"]
    assert everything["changed"] is False

    running_fac = run_module("pod_info", dict(name_prefix="fac-", status=["RUNNING"]))
    assert [p["name"] for p in running_fac["pods"]] == ["fac-a"]
    # The same shape as the pod module's, plus what it returns beside it: the SSH options (the same host-key policy)
    # and the host the pod is (the same entry, but for the uptime-free facts it holds).
    assert running_fac["pods"][0] == made["pod"] | {"uptime_seconds": running_fac["pods"][0]["uptime_seconds"],
                                                    "ssh_common_args": made["ssh_common_args"], "host": made["host"]}

    by_id = run_module("pod_info", dict(id=made["id"]), check=True)
    assert [p["id"] for p in by_id["pods"]] == [made["id"]]
    assert run_module("pod_info", dict(name="nope"))["pods"] == []
    assert run_module("pod_info", dict(id="missing000000"))["pods"] == []


def test_gpu_info_filters_by_memory_price_and_stock(sandbox):
    sandbox.set_stock("NVIDIA L40S", "ALL", 0)
    result = run_module("gpu_info", dict(min_vram_gb=24, max_price=1.0))
    ids = [g["id"] for g in result["gpus"]]
    assert "NVIDIA A40" in ids and "NVIDIA RTX A4000" not in ids and "NVIDIA H100 PCIe" not in ids
    prices = [min(g["secure_price"], g["community_price"]) for g in result["gpus"]]
    assert prices == sorted(prices)
    l40s = [g for g in result["gpus"] if g["id"] == "NVIDIA L40S"][0]
    assert l40s["stock"] == {"SECURE": None, "COMMUNITY": None}
    in_stock = run_module("gpu_info", dict(min_vram_gb=24, in_stock=True))
    assert "NVIDIA L40S" not in [g["id"] for g in in_stock["gpus"]]
