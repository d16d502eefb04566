"""module_utils/_failover.py against the sandbox API (memory backend): creates that never leave two pods.

``Failover.create`` runs in-process with the real client; the sandbox's faults answer as RunPod does.
"""

import pytest

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _failover

A40, L40S = "NVIDIA A40", "NVIDIA L40S"
CAPACITY = "There are no longer any instances available with the requested specifications. Please refresh and try again."
UNCLEAR = "Something went wrong. Please try again later or contact support."
ARGS = dict(image="runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", ports=["22/tcp"], gpu_count=1)


@pytest.fixture
def client(sandbox):
    return _client.Client(sandbox.api_key, retry_deadline=20, max_backoff=0.2)


def failover(client, name="fac-fo", settle=4):
    def find_by_name():
        matches = [pod for pod in client.list_pods() if pod.get("name") == name]
        return matches[0] if matches else None
    return _failover.Failover(client, name, client.gpu_types(1, ["12.8"]), find_by_name,
                              settle=settle, unclear_settle=2, poll=0.5)


def names(sandbox):
    return sorted(p["name"] for p in sandbox.pods())


def test_capacity_refusals_walk_the_plan_and_record_each_try(sandbox, client):
    sandbox.fault(kind="error", message=CAPACITY, operation="podFindAndDeployOnDemand", count=2)
    run = failover(client)
    pod = run.create([A40, L40S], ["SECURE", "COMMUNITY"], [], ARGS)
    assert [(a["gpu"], a["cloud_type"], a["result"].split(" (")[0]) for a in run.attempts] == [
        (A40, "SECURE", "no capacity"), (A40, "COMMUNITY", "no capacity"), (L40S, "SECURE", "created")]
    assert names(sandbox) == ["fac-fo"] and pod["id"] == sandbox.pods()[0]["id"]


def test_each_data_center_is_tried_for_a_pair(sandbox, client):
    sandbox.fault(kind="error", message=CAPACITY, operation="podFindAndDeployOnDemand", count=1)
    run = failover(client)
    run.create([A40], ["SECURE"], ["EU-RO-1", "US-KS-2"], ARGS)
    assert [(a["data_center"], a["result"].split(" (")[0]) for a in run.attempts] == [
        ("EU-RO-1", "no capacity"), ("US-KS-2", "created")]


def test_no_capacity_anywhere_is_one_line_listing_every_try(sandbox, client):
    sandbox.set_stock(A40, "ALL", 0)
    run = failover(client)
    with pytest.raises(_client.CapacityError) as raised:
        run.create([A40], ["SECURE", "COMMUNITY"], [], ARGS)
    message = str(raised.value)
    assert "\n" not in message and "NVIDIA A40/SECURE" in message and "NVIDIA A40/COMMUNITY" in message
    assert "try later" in message and sandbox.pods() == []


def test_the_generic_error_with_no_pod_made_moves_on(sandbox, client):
    sandbox.fault(kind="error", message=UNCLEAR, operation="podFindAndDeployOnDemand")
    run = failover(client)
    run.create([A40], ["SECURE", "COMMUNITY"], [], ARGS)
    assert [a["result"].split(" (")[0] for a in run.attempts] == ["no pod made", "created"]
    assert names(sandbox) == ["fac-fo"]


@pytest.mark.parametrize("fault", [
    dict(kind="error", message=UNCLEAR, operation="podFindAndDeployOnDemand", carry_out=True),
    dict(kind="after", status=502, operation="podFindAndDeployOnDemand"),
])
def test_a_create_that_failed_after_making_the_pod_keeps_that_pod(sandbox, client, fault):
    sandbox.fault(**fault)
    run = failover(client)
    pod = run.create([A40], ["SECURE", "COMMUNITY"], [], ARGS)
    assert len(run.attempts) == 1 and run.attempts[0]["result"].startswith("created (confirmed by name")
    assert names(sandbox) == ["fac-fo"] and pod["id"] == sandbox.pods()[0]["id"]


def test_an_unanswered_create_is_never_sent_twice(sandbox, client):
    sandbox.fault(kind="drop", operation="podFindAndDeployOnDemand")
    run = failover(client, settle=2)
    with pytest.raises(_client.UncertainError) as raised:
        run.create([A40, L40S], ["SECURE"], [], ARGS)
    assert "did not confirm creating pod 'fac-fo'" in str(raised.value) and "run the task again" in str(raised.value)
    creates = [r for r in sandbox.requests() if "podFindAndDeployOnDemand" in r["operations"]]
    assert len(creates) == 1 and names(sandbox) == []


def test_a_spot_pod_bids_the_listed_spot_price_of_its_cloud_type(sandbox, client):
    run = failover(client)
    spot = dict((r["id"], r) for r in run.catalogue)[A40]["communitySpotPrice"]
    run.create([A40], ["COMMUNITY"], [], ARGS, interruptible=True)
    created = sandbox.pods()[0]
    assert created["podType"] == "INTERRUPTABLE" and created["costPerHr"] == spot
