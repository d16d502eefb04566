"""_client.py against the sandbox RunPod API: escaping, retries, error mapping."""

import pytest

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client


@pytest.fixture
def client(sandbox):
    return _client.Client(sandbox.api_key, retry_deadline=20, max_backoff=0.2)


def _create(client, name="pod-a", **kwargs):
    args = dict(image="runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", gpu_type_id="NVIDIA A40", cloud_type="SECURE",
                ports=["22/tcp", "8002/tcp"])
    args.update(kwargs)
    return client.create_pod(name, **args)


def test_round_trip_of_every_pod_call(client):
    created = _create(client, env={"HELLO": "world"})
    pod = client.get_pod(created["id"])
    assert pod["name"] == "pod-a"
    assert pod["machine"]["gpuTypeId"] == "NVIDIA A40"
    assert pod["machine"]["dataCenterId"]
    assert [p["id"] for p in client.list_pods()] == [created["id"]]
    assert client.stop_pod(created["id"])["desiredStatus"] == "EXITED"
    assert client.resume_pod(created["id"], 1)["desiredStatus"] == "RUNNING"
    client.terminate_pod(created["id"])
    client.terminate_pod(created["id"])  # a second terminate is not an error
    assert client.get_pod(created["id"]) is None


def test_gpu_types_carry_stock_per_cloud(client, sandbox):
    sandbox.set_stock("NVIDIA L40S", "SECURE", 0)
    gpus = {g["id"]: g for g in client.gpu_types()}
    assert not _client.in_stock(gpus["NVIDIA L40S"]["secure"]["stockStatus"])  # null or "None": sold out
    assert gpus["NVIDIA L40S"]["community"]["stockStatus"] == "High"


def test_gpu_stock_respects_the_cuda_filter_a_create_uses(client, sandbox):
    sandbox.set_stock("NVIDIA A40", "ALL", cuda="12.4")  # hosts with an older driver
    filtered = {g["id"]: g for g in client.gpu_types(1, ["12.8", "12.9"])}
    assert not _client.in_stock(filtered["NVIDIA A40"]["secure"]["stockStatus"])
    unfiltered = {g["id"]: g for g in client.gpu_types(1)}
    assert _client.in_stock(unfiltered["NVIDIA A40"]["secure"]["stockStatus"])


def test_the_sandbox_schema_requires_what_runpods_does(client):
    """saveTemplate without dockerArgs/env/volumeInGb, lowestPrice without gpuCount, podBidResume without a bid."""
    for text in ('mutation { saveTemplate(input: {name: "t", imageName: "i", containerDiskInGb: 5}) { id } }',
                 "query { gpuTypes { lowestPrice(input: {secureCloud: true}) { stockStatus } } }",
                 'mutation { podBidResume(input: {podId: "p", gpuCount: 1}) { id } }'):
        with pytest.raises(_client.RunPodError):
            client.query(text)


@pytest.mark.parametrize("value", [
    'x", gpuCount: 8, name: "y',
    "back\\slash",
    "new\nline",
    "brace } ) { mutation",
    "tab\tand \u0001 control",
    "unicode ✓ é",
])
def test_env_values_reach_runpod_byte_for_byte(client, sandbox, value):
    created = _create(client, env={"TRICKY": value}, docker_args="bash -c 'echo %s'" % value)
    pod = client.get_pod(created["id"])
    assert pod["env"] == ["TRICKY=" + value]
    assert pod["gpuCount"] == 1
    # Free text travels as a GraphQL variable (JSON), never inside the query text.
    create = [r for r in sandbox.requests() if "podFindAndDeployOnDemand" in r["operations"]][-1]
    assert value not in create["query"] and "$input" in create["query"]
    assert create["variables"]["input"]["env"] == [{"key": "TRICKY", "value": value}]
    assert create["variables"]["input"]["dockerArgs"] == "bash -c 'echo %s'" % value


@pytest.mark.parametrize("option,kwargs", [
    ("name", {"name": 'evil", gpuCount: 8, x: "'}),
    ("name", {"name": "line\nbreak"}),
    ("image", {"image": 'img"} ) { id } }'}),
    ("env key", {"env": {'K" : "x': "v"}}),
    ("ports", {"ports": ['22/tcp", x: "']}),
    ("ports", {"ports": ["70000/tcp"]}),
    ("data_center_id", {"data_center_id": 'EU"'}),
    ("volume_mount_path", {"volume_mount_path": "relative/path"}),
    ("allowed_cuda_versions", {"allowed_cuda_versions": ['12.8"]']}),
    ("template_id", {"template_id": "a b"}),
])
def test_unsafe_values_are_refused_before_any_request(client, sandbox, option, kwargs):
    sandbox.clear_requests()
    name = kwargs.pop("name", "pod-a")
    with pytest.raises(_client.InvalidValueError) as info:
        _create(client, name=name, **kwargs)
    message = str(info.value)
    assert message.startswith(option) and "\n" not in message
    assert sandbox.requests() == []
    assert sandbox.pods() == []


def test_rate_limits_and_5xx_on_reads_are_retried(client, sandbox):
    sandbox.fault(kind="status", status=429, count=2, retry_after=0)
    sandbox.fault(kind="status", status=503, count=1)
    assert client.list_pods() == []
    statuses = [r["status"] for r in sandbox.requests()]
    assert statuses == [429, 429, 503, 200]


def test_retries_stop_at_the_deadline_with_one_clear_line(sandbox):
    client = _client.Client(sandbox.api_key, retry_deadline=1.5, max_backoff=0.3)
    sandbox.fault(kind="status", status=502, count=1000)
    with pytest.raises(_client.TransientError) as info:
        client.list_pods()
    assert "HTTP 502" in str(info.value) and "attempts" in str(info.value)
    assert 2 <= client.requests_sent < 50


def test_slow_answers_time_out_and_are_retried(sandbox):
    client = _client.Client(sandbox.api_key, timeout=1, retry_deadline=20, max_backoff=0.2)
    sandbox.fault(kind="delay", seconds=3, count=1)
    assert client.list_pods() == []
    assert client.requests_sent == 2


def test_a_create_whose_answer_is_lost_is_not_blindly_repeated(client, sandbox):
    sandbox.fault(kind="after", status=502, count=1, operation="podFindAndDeployOnDemand")
    with pytest.raises(_client.UncertainError):
        _create(client, name="maybe-made")
    pods = sandbox.pods()
    assert [p["name"] for p in pods] == ["maybe-made"], "exactly one pod, and the caller knows to look"


def test_a_rate_limited_create_is_retried_because_it_did_nothing(client, sandbox):
    sandbox.fault(kind="status", status=429, count=1, operation="podFindAndDeployOnDemand")
    _create(client, name="after-429")
    assert [p["name"] for p in sandbox.pods()] == ["after-429"]


def test_capacity_errors_are_recognised(client, sandbox):
    sandbox.set_stock("NVIDIA A40", "SECURE", 0)
    with pytest.raises(_client.CapacityError, match="no longer any instances available"):
        _create(client)


def test_cuda_filter_keeps_pods_off_old_drivers(client, sandbox):
    sandbox.set_stock("NVIDIA A40", cuda="12.4")
    with pytest.raises(_client.CapacityError):
        _create(client, allowed_cuda_versions=["12.8", "12.9"])
    assert _create(client, name="ok", allowed_cuda_versions=["12.4"])["id"]


def test_wrong_key_is_one_clear_line_without_the_key(sandbox):
    client = _client.Client("wrong-secret-key", retry_deadline=5)
    with pytest.raises(_client.AuthError) as info:
        client.list_pods()
    assert "HTTP 401" in str(info.value) and "wrong-secret-key" not in str(info.value)


def test_missing_key_says_where_to_put_it():
    with pytest.raises(_client.AuthError, match="RUNPOD_API_KEY"):
        _client.Client("")


def test_unknown_pod_is_none(client):
    assert client.get_pod("doesnotexist123") is None


def test_templates_and_network_volumes(client):
    template = client.save_template("fac-tpl", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", docker_args='bash -c "sleep \\"1\\""',
                                    ports=["22/tcp"], env={"X": 'q"uote'})
    assert template["dockerArgs"] == 'bash -c "sleep \\"1\\""'
    assert template["env"] == [{"key": "X", "value": 'q"uote'}]
    updated = client.save_template("fac-tpl", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404", template_id=template["id"])
    assert updated["id"] == template["id"] and updated["imageName"] == "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404"
    assert [t["name"] for t in client.list_templates()] == ["fac-tpl"]
    client.delete_template("fac-tpl")
    assert client.list_templates() == []

    volume = client.create_network_volume("models", 50, "EU-RO-1")
    assert client.update_network_volume(volume["id"], size_gb=80)["size"] == 80
    assert [v["name"] for v in client.list_network_volumes()] == ["models"]
    client.delete_network_volume(volume["id"])
    assert client.list_network_volumes() == []


def test_sdk_is_loaded_without_the_serverless_worker():
    import subprocess
    import sys
    code = ("import sys; from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client;"
            "_client.load_sdk(); print(any(m.startswith('runpod.serverless') for m in sys.modules))")
    from tests.helpers import COLLECTIONS
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": COLLECTIONS})
    assert out.stdout.strip() == "False"
