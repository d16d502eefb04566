"""The pod-scoped RUNPOD_API_KEY every sandbox pod gets, as a pod stopping itself uses it.

RunPod does not document what a pod's own key may do; the sandbox grants the least a pod needs to stop
itself (read, stop and resume that pod) so the idle-stop watcher is tried against a key that cannot do
more, and a pod can never touch its neighbour.
"""

import requests

IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"


def _call(sandbox, key, query):
    response = requests.post(sandbox.url + "/graphql", headers={"Authorization": "Bearer " + key},
                             json={"query": query}, timeout=10)
    return response.status_code, response.json()


def _own_key(sandbox, pod_id):
    return sandbox.admin("GET", "state")["state"]["pods"][pod_id]["podApiKey"]


def test_a_pods_own_key_stops_and_resumes_that_pod_only(sdk, sandbox):
    mine = sdk.create_pod("scoped-mine", IMAGE, "NVIDIA A40", ports="22/tcp")["id"]
    other = sdk.create_pod("scoped-other", IMAGE, "NVIDIA A40", ports="22/tcp")["id"]
    key = _own_key(sandbox, mine)
    assert key != sandbox.api_key and key != _own_key(sandbox, other)

    status, body = _call(sandbox, key, 'query { pod(input: {podId: "%s"}) { id desiredStatus } }' % mine)
    assert status == 200 and body["data"]["pod"] == {"id": mine, "desiredStatus": "RUNNING"}

    # Its neighbour: neither read nor stopped, and the refusal says why.
    status, body = _call(sandbox, key, 'mutation { podStop(input: {podId: "%s"}) { id desiredStatus } }' % other)
    assert status == 403 and "may only act on pod %s" % mine in body["errors"][0]["message"]
    assert sdk.get_pod(other)["desiredStatus"] == "RUNNING"
    status, _body = _call(sandbox, key, 'query { pod(input: {podId: "%s"}) { id } }' % other)
    assert status == 403
    # Nothing account-wide: no listing, no new pods, no terminate.
    for query in ("query { myself { pods { id } } }",
                  'mutation { podTerminate(input: {podId: "%s"}) }' % mine):
        status, body = _call(sandbox, key, query)
        assert status == 403 and "may not call" in body["errors"][0]["message"], query
    # Both ids in one document: refused as a whole.
    status, _body = _call(sandbox, key, 'mutation { a: podStop(input: {podId: "%s"}) { id } '
                                        'b: podStop(input: {podId: "%s"}) { id } }' % (mine, other))
    assert status == 403 and sdk.get_pod(mine)["desiredStatus"] == "RUNNING"

    status, body = _call(sandbox, key, 'mutation { podStop(input: {podId: "%s"}) { id desiredStatus } }' % mine)
    assert status == 200 and body["data"]["podStop"]["desiredStatus"] == "EXITED"
    assert sdk.get_pod(mine)["desiredStatus"] == "EXITED" and sdk.get_pod(other)["desiredStatus"] == "RUNNING"
    status, body = _call(sandbox, key, 'mutation { podResume(input: {podId: "%s", gpuCount: 1}) { id desiredStatus } }'
                         % mine)
    assert status == 200 and body["data"]["podResume"]["desiredStatus"] == "RUNNING"
    assert [entry["caller"] for entry in sandbox.requests() if entry.get("caller")][-1] == "pod " + mine


def test_a_terminated_pods_key_is_refused(sdk, sandbox):
    pod = sdk.create_pod("scoped-gone", IMAGE, "NVIDIA A40", ports="22/tcp")["id"]
    key = _own_key(sandbox, pod)
    sdk.terminate_pod(pod)
    status, _body = _call(sandbox, key, 'query { pod(input: {podId: "%s"}) { id } }' % pod)
    assert status == 401
