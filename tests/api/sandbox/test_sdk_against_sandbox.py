"""The plain runpod SDK, unmodified, against the sandbox RunPod API."""

import runpod
import pytest


def test_lists_gpus_with_real_ids_and_memory(sdk):
    gpus = {gpu["id"]: gpu for gpu in sdk.get_gpus()}
    assert gpus["NVIDIA A40"]["memoryInGb"] == 48
    assert gpus["NVIDIA GeForce RTX 4090"]["memoryInGb"] == 24
    detail = sdk.get_gpu("NVIDIA H100 80GB HBM3")
    assert detail["securePrice"] > detail["communityPrice"] > 0
    assert detail["lowestPrice"]["uninterruptablePrice"] is not None


def test_pod_lifecycle_create_stop_resume_terminate(sdk, sandbox):
    created = sdk.create_pod("sdk-pod", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "NVIDIA A40",
                             cloud_type="SECURE", ports="22/tcp,8002/tcp", env={"A": "1"})
    pod = sdk.get_pod(created["id"])
    assert pod["name"] == "sdk-pod" and pod["desiredStatus"] == "RUNNING"
    assert pod["machine"]["gpuDisplayName"] == "A40"
    first = {p["privatePort"]: p["publicPort"] for p in pod["runtime"]["ports"]}
    assert set(first) == {22, 8002}

    assert sdk.stop_pod(created["id"])["desiredStatus"] == "EXITED"
    assert sdk.get_pod(created["id"])["runtime"] is None

    assert sdk.resume_pod(created["id"], 1)["desiredStatus"] == "RUNNING"
    again = {p["privatePort"]: p["publicPort"] for p in sdk.get_pod(created["id"])["runtime"]["ports"]}
    assert again[22] != first[22], "a resumed pod gets a new public SSH port, as on RunPod"

    sdk.terminate_pod(created["id"])
    assert sdk.get_pod(created["id"]) is None
    assert sdk.get_pods() == []


def test_runtime_is_null_until_the_pod_has_booted(sdk, sandbox):
    sandbox.configure(boot_seconds=30)
    created = sdk.create_pod("slow-boot", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "NVIDIA A40", ports="22/tcp")
    pod = sdk.get_pod(created["id"])
    assert pod["desiredStatus"] == "RUNNING" and pod["runtime"] is None


def test_wrong_key_is_http_401(sdk):
    sdk.api_key = "not-the-key"
    with pytest.raises(runpod.error.AuthenticationError):
        sdk.get_pods()


def test_query_param_auth_is_accepted(sandbox):
    import requests
    response = requests.post(sandbox.url + "/graphql", params={"api_key": sandbox.api_key},
                             json={"query": "query { myself { id } }"}, timeout=10)
    assert response.status_code == 200 and response.json()["data"]["myself"]["id"]
    denied = requests.post(sandbox.url + "/graphql", params={"api_key": "nope"},
                           json={"query": "query { myself { id } }"}, timeout=10)
    assert denied.status_code == 401


def test_no_capacity_reads_like_runpod(sdk, sandbox):
    sandbox.set_stock("NVIDIA A40", "ALL", 0)
    with pytest.raises(runpod.error.QueryError, match="no longer any instances available"):
        sdk.create_pod("nope", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "NVIDIA A40")


def test_state_survives_a_restart(tmp_path):
    from tests.sandbox.control import SandboxAPI
    state = str(tmp_path / "state.json")
    with SandboxAPI(state) as api:
        runpod.api_key = api.api_key
        import os
        old = os.environ.get("RUNPOD_API_BASE_URL")
        os.environ["RUNPOD_API_BASE_URL"] = api.url
        try:
            pod_id = runpod.create_pod("persisted", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "NVIDIA L40S")["id"]
        finally:
            os.environ["RUNPOD_API_BASE_URL"] = old or ""
        key = api.api_key
    with SandboxAPI(state, api_key=key) as api:
        assert [p["id"] for p in api.pods()] == [pod_id]
    runpod.api_key = None


def test_templates_and_user(sdk):
    template = sdk.create_template("tpl-one", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404", docker_start_cmd='bash -c "echo hi"',
                                   ports="8002/http", env={"K": "V"})
    assert template["dockerArgs"] == 'bash -c "echo hi"'
    assert template["env"] == [{"key": "K", "value": "V"}]
    assert sdk.update_user_settings("ssh-ed25519 AAAA test")["pubKey"] == "ssh-ed25519 AAAA test"
    assert sdk.get_user()["networkVolumes"] == []
