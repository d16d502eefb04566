"""The pure value helpers of module_utils, in-process: ports, GPU names, the pod shape, error texts.

These decide what reaches RunPod's API and what every module returns;
the sandbox-API tests (tests/api/plugins/module_utils/test_client.py, tests/api/plugins/modules/) show the
same values end to end.
"""

import json

import pytest

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client, _pods

CATALOGUE = [
    {"id": "NVIDIA A40", "displayName": "A40", "memoryInGb": 48},
    {"id": "NVIDIA L40S", "displayName": "L40S", "memoryInGb": 48},
    {"id": "NVIDIA RTX A4000", "displayName": "RTX A4000", "memoryInGb": 16},
    {"id": "NVIDIA H100 80GB HBM3", "displayName": "H100 SXM", "memoryInGb": 80},
    {"id": "NVIDIA H100 PCIe", "displayName": "H100 PCIe", "memoryInGb": 80},
]


@pytest.mark.parametrize("value, expected", [
    (["22/tcp", 8002], ["22/tcp", "8002/tcp"]),
    ("22/tcp, 8002 ,8888/HTTP,22/tcp", ["22/tcp", "8002/tcp", "8888/http"]),
    ("22/tcp, 8888/http,22/TCP", ["22/tcp", "8888/http"]),
    ("", []),
    (None, []),
])
def test_ports_are_normalised_in_order_without_duplicates(value, expected):
    assert _client.normalize_ports(value) == expected


@pytest.mark.parametrize("value", [["22/tcp", "x"], ["ssh"], ["70000/tcp"], ["0"], ["22/sctp"], [""]])
def test_a_bad_port_is_one_line_naming_it(value):
    with pytest.raises(_client.InvalidValueError) as raised:
        _client.normalize_ports(value)
    assert str(raised.value).startswith("ports: ") and "port 1-65535" in str(raised.value)


@pytest.mark.parametrize("requested, expected", [
    ("A40", ["NVIDIA A40"]),
    (["a40", "NVIDIA L40S"], ["NVIDIA A40", "NVIDIA L40S"]),
    ("A40,L40S,A40", ["NVIDIA A40", "NVIDIA L40S"]),
    ("H100", ["NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe"]),  # an alias is every listed id it names
    ("h100 pcie", ["NVIDIA H100 PCIe"]),  # a display name
])
def test_gpu_names_resolve_to_runpod_ids_in_order(requested, expected):
    assert _pods.resolve_gpus(requested, CATALOGUE, min_vram_gb=24) == expected


@pytest.mark.parametrize("requested, words", [
    ("Z9000", ["unknown GPU 'Z9000'", "A40"]),
    ("A4000", ["16 GB of GPU memory, below min_vram_gb=24"]),
    ("", ["name at least one GPU"]),
    ([" "], ["name at least one GPU"]),
])
def test_an_unusable_gpu_is_one_line_with_what_would_work(requested, words):
    with pytest.raises(_client.InvalidValueError) as raised:
        _pods.resolve_gpus(requested, CATALOGUE, min_vram_gb=24)
    message = str(raised.value)
    assert "\n" not in message and all(word in message for word in words), message


def test_the_pod_shape_has_the_ssh_endpoint_and_env_names_only():
    pod = {"id": "p1", "name": "fac-1", "desiredStatus": "RUNNING", "ports": "22/tcp,8002/tcp",
           "env": ["PUBLIC_KEY=ssh-ed25519 AAAA", "HF_TOKEN=hf_secret"], "podType": "INTERRUPTABLE",
           "machine": {"gpuDisplayName": "A40", "gpuTypeId": "NVIDIA A40"},
           "runtime": {"uptimeInSeconds": 42, "ports": [
               {"ip": "10.0.0.1", "isIpPublic": False, "privatePort": 22, "publicPort": 22},
               {"ip": "203.0.113.9", "isIpPublic": True, "privatePort": 22, "publicPort": 40122},
               {"ip": "203.0.113.9", "isIpPublic": True, "privatePort": 8002, "publicPort": 40123}]}}
    shape = _pods.summarize(pod)
    assert (shape["ssh_host"], shape["ssh_port"]) == ("203.0.113.9", 40122)
    assert shape["ports"] == {"22": 40122, "8002": 40123}
    assert shape["env_keys"] == ["HF_TOKEN", "PUBLIC_KEY"] and "hf_secret" not in json.dumps(shape)
    assert shape["interruptible"] is True and shape["uptime_seconds"] == 42
    booting = _pods.summarize(dict(pod, runtime=None))
    assert booting["ssh_host"] is None and booting["ports"] == {}


@pytest.mark.parametrize("message, kind", [
    ("There are no longer any instances available with the requested specifications. Please refresh and try again.",
     _client.CapacityError),
    ("There are not enough free GPUs on the host machine to start this pod.", _client.CapacityError),
    ("Something went wrong. Please try again later or contact support.", _client.UnclearError),
    ("pod not found", _client.NotFoundError),
    ("Field 'x' is not defined", _client.RunPodError),
])
def test_runpods_error_texts_are_classified(message, kind):
    assert _client.classify(message).__class__ is kind  # the exact class: all are RunPodError


@pytest.mark.parametrize("status, expected", [(None, False), ("None", False), ("", False), ("Low", True),
                                              ("Medium", True), ("High", True)])
def test_stock_status_null_and_none_mean_sold_out(status, expected):
    assert _client.in_stock(status) is expected
