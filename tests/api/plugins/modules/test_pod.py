"""The pod module against the sandbox: states, failover, no duplicates, wait, bad input."""

import json
import time

import pytest

from tests.helpers import run_module

IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"
BASE = dict(name="fac-test", gpu=["A40"], image=IMAGE, ports=["22/tcp", "8002/tcp"], wait_timeout=30)


def pod(args=None, **kwargs):
    merged = dict(BASE)
    merged.update(args or {})
    return run_module("pod", merged, **kwargs)


def names(sandbox):
    return sorted(p["name"] for p in sandbox.pods())


def test_create_is_check_mode_then_real_then_unchanged(sandbox):
    checked = pod(check=True, diff=True)
    assert checked["changed"] is True and checked["pod"]["id"] is None
    assert checked["diff"]["before"] == {"state": "absent"}
    assert checked["diff"]["after"]["gpu"] == "NVIDIA A40"
    assert sandbox.pods() == [], "check mode sends no mutation"

    created = pod()
    assert created["changed"] is True, created
    assert created["pod"]["status"] == "RUNNING" and created["gpu"] == "A40"
    assert created["ssh_host"] == "127.0.0.1" and created["ssh_port"] > 0
    assert set(created["ports"]) == {"22", "8002"}
    assert created["attempts"][0]["result"] == "created"

    again = pod()
    assert again["changed"] is False and again["id"] == created["id"]
    assert names(sandbox) == ["fac-test"]


def test_stop_restart_start_and_terminate(sandbox):
    created = pod()
    stopped_check = pod({"state": "stopped"}, check=True)
    assert stopped_check["changed"] is True
    assert sandbox.pods()[0]["desiredStatus"] == "RUNNING"
    stopped = pod({"state": "stopped"})
    assert stopped["changed"] is True and stopped["pod"]["status"] == "EXITED"
    assert pod({"state": "stopped"})["changed"] is False

    started = pod({"state": "running"})
    assert started["changed"] is True and started["pod"]["status"] == "RUNNING"
    assert started["ssh_port"] != created["ssh_port"], "a resumed pod has new port mappings"

    restarted = pod({"state": "restarted"})
    assert restarted["changed"] is True and restarted["ssh_port"] != started["ssh_port"]

    assert pod({"state": "absent"}, check=True)["changed"] is True
    assert len(sandbox.pods()) == 1
    assert pod({"state": "absent"})["changed"] is True
    assert sandbox.pods() == []
    assert pod({"state": "absent"})["changed"] is False


CAPACITY = "There are no longer any instances available with the requested specifications. Please refresh and try again."
UNCLEAR = "Something went wrong. Please try again later or contact support."


def test_failover_walks_gpus_then_cloud_types(sandbox):
    # The listing shows stock but RunPod refuses (users report the listing is no promise).
    sandbox.fault(kind="error", message=CAPACITY, operation="podFindAndDeployOnDemand", count=3)
    created = pod({"gpu": ["A40", "L40S"], "cloud_type": ["SECURE", "COMMUNITY"]})
    results = [(a["gpu"], a["cloud_type"], a["result"].split(" (")[0]) for a in created["attempts"]]
    assert results == [
        ("NVIDIA A40", "SECURE", "no capacity"),
        ("NVIDIA A40", "COMMUNITY", "no capacity"),
        ("NVIDIA L40S", "SECURE", "no capacity"),
        ("NVIDIA L40S", "COMMUNITY", "created"),
    ]
    assert created["pod"]["gpu_type_id"] == "NVIDIA L40S"


def test_what_runpod_lists_as_sold_out_is_tried_last(sandbox):
    sandbox.set_stock("NVIDIA A40", "SECURE", 0)
    sandbox.set_stock("NVIDIA L40S", "ALL", 0)
    created = pod({"gpu": ["L40S", "A40"], "cloud_type": ["SECURE", "COMMUNITY"]})
    assert [(a["gpu"], a["cloud_type"]) for a in created["attempts"]] == [("NVIDIA A40", "COMMUNITY")]
    assert created["pod"]["gpu_type_id"] == "NVIDIA A40"


@pytest.mark.parametrize("message", [
    CAPACITY,  # runpod/runpodctl#189, mlabonne/llm-autoeval#3
    "There are no longer any instances available with the request specifications. Please try again later.",
    "There are no longer any instances available with enough disk space.",  # runpod/runpod-python#297
    "There are not enough free GPUs on the host machine to start this pod.",  # runpod/runpod-python#168
    "This machine does not have the resources to deploy this pod.",  # fast-stable-diffusion#2484
])
def test_every_capacity_text_moves_failover_on(sandbox, message):
    sandbox.fault(kind="error", message=message, operation="podFindAndDeployOnDemand")
    created = pod({"gpu": ["A40"], "cloud_type": ["SECURE", "COMMUNITY"]})
    assert not created.get("failed"), created.get("msg")
    assert [a["result"].split(" (")[0] for a in created["attempts"]] == ["no capacity", "created"]
    assert names(sandbox) == ["fac-test"]


def test_runpods_generic_error_without_a_pod_moves_on(sandbox):
    sandbox.fault(kind="error", message=UNCLEAR, operation="podFindAndDeployOnDemand")
    created = pod({"gpu": ["A40"], "cloud_type": ["SECURE", "COMMUNITY"]})
    assert not created.get("failed"), created.get("msg")
    assert [a["result"].split(" (")[0] for a in created["attempts"]] == ["no pod made", "created"]
    assert created["attempts"][1]["cloud_type"] == "COMMUNITY" and names(sandbox) == ["fac-test"]


def test_runpods_generic_error_after_the_pod_was_made_keeps_that_pod(sandbox):
    sandbox.fault(kind="error", message=UNCLEAR, operation="podFindAndDeployOnDemand", carry_out=True)
    created = pod({"gpu": ["A40"], "cloud_type": ["SECURE", "COMMUNITY"]})
    assert not created.get("failed"), created.get("msg")
    assert created["attempts"][0]["result"].startswith("created (confirmed by name")
    assert len(created["attempts"]) == 1 and names(sandbox) == ["fac-test"]


def test_a_spot_pod_resumes_as_a_spot_pod_and_on_demand_as_on_demand(sandbox):
    spot = pod({"name": "fac-spot", "interruptible": True})
    assert sandbox.pods()[0]["podType"] == "INTERRUPTABLE"
    assert pod({"name": "fac-spot", "state": "stopped"})["changed"] is True
    assert pod({"name": "fac-spot", "state": "running", "bid_per_gpu": 0.3})["changed"] is True
    resumed = [p for p in sandbox.pods() if p["id"] == spot["id"]][0]
    assert resumed["podType"] == "INTERRUPTABLE" and resumed["costPerHr"] == 0.3
    sent = [entry["operations"] for entry in sandbox.requests() if "podBidResume" in entry["operations"]]
    assert sent == [["podBidResume"]]

    pod({"name": "fac-od"})
    pod({"name": "fac-od", "state": "stopped"})
    pod({"name": "fac-od", "state": "running"})
    assert [p["podType"] for p in sandbox.pods() if p["name"] == "fac-od"] == ["RESERVED"]


def test_a_resume_refused_for_capacity_says_what_to_do(sandbox):
    pod()
    pod({"state": "stopped"})
    sandbox.set_stock("NVIDIA A40", "ALL", 0)
    result = pod({"state": "running"})
    assert result["failed"] is True and "\n" not in result["msg"]
    assert "cannot start now" in result["msg"] and "not enough free GPUs" in result["msg"]
    assert "try again later" in result["msg"]


def test_terminating_a_pod_that_goes_meanwhile_succeeds_whatever_the_text(sandbox):
    pod()
    sandbox.fault(kind="error", message="This pod has already been terminated.", operation="podTerminate",
                  carry_out=True)
    result = pod({"state": "absent"})
    assert not result.get("failed"), result.get("msg")
    assert sandbox.pods() == []
    assert pod({"state": "absent"})["changed"] is False


def test_no_capacity_anywhere_is_one_line_listing_every_try(sandbox):
    sandbox.set_stock("NVIDIA A40", "ALL", 0)
    result = pod({"gpu": "A40", "cloud_type": ["SECURE", "COMMUNITY"]})
    assert result["failed"] is True
    assert "\n" not in result["msg"]
    assert "NVIDIA A40/SECURE" in result["msg"] and "NVIDIA A40/COMMUNITY" in result["msg"]
    assert sandbox.pods() == []


@pytest.mark.parametrize("fault", [
    dict(kind="after", status=502, operation="podFindAndDeployOnDemand"),
    dict(kind="after", status=500, operation="podFindAndDeployOnDemand"),
])
def test_a_create_that_fails_after_making_the_pod_leaves_exactly_one(sandbox, fault):
    sandbox.fault(**fault)
    created = pod()
    assert created.get("failed") is not True, created
    assert "confirmed by name" in created["attempts"][0]["result"]
    assert names(sandbox) == ["fac-test"]
    assert pod()["changed"] is False


def test_a_create_that_times_out_leaves_exactly_one(sandbox):
    sandbox.fault(kind="delay", seconds=4, operation="podFindAndDeployOnDemand")
    created = pod({"api_timeout": 2})
    assert created.get("failed") is not True, created
    assert "confirmed by name" in created["attempts"][0]["result"]
    time.sleep(3)  # well past the delayed create: it must not have made a second pod
    assert names(sandbox) == ["fac-test"]


def test_a_create_that_never_answers_fails_without_a_second_create(sandbox):
    sandbox.fault(kind="drop", operation="podFindAndDeployOnDemand")
    failed = pod({"wait": False})
    assert failed["failed"] is True
    assert "did not confirm creating pod 'fac-test'" in failed["msg"] and "run the task again" in failed["msg"]
    creates = [r for r in sandbox.requests() if "podFindAndDeployOnDemand" in r["operations"]]
    assert len(creates) == 1
    assert names(sandbox) == []
    assert pod({"wait": False})["changed"] is True
    assert names(sandbox) == ["fac-test"]


def test_wait_returns_once_ssh_answers(sandbox):
    sandbox.configure(boot_seconds=3)
    created = pod()
    assert created["pod"]["status"] == "RUNNING" and created["ssh_port"]
    assert created["pod"]["uptime_seconds"] is not None


def test_wait_timeout_is_one_clear_error_and_can_terminate(sandbox):
    sandbox.configure(boot_seconds=120)
    result = pod({"wait_timeout": 3})
    assert result["failed"] is True and "not reachable over SSH within 3s" in result["msg"]
    assert "still there" in result["msg"]
    assert names(sandbox) == ["fac-test"]
    sandbox.reset()
    sandbox.configure(boot_seconds=120)
    result = pod({"wait_timeout": 3, "terminate_on_failure": True})
    assert result["failed"] is True and "terminated" in result["msg"]
    assert sandbox.pods() == []


def test_no_wait_returns_before_boot(sandbox):
    sandbox.configure(boot_seconds=120)
    created = pod({"wait": False})
    assert created["changed"] is True and created["pod"]["ssh_port"] is None


def test_drift_is_reported_and_force_recreates(sandbox):
    first = pod()
    drifted = pod({"image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404"})
    assert drifted["changed"] is False
    assert drifted["drift"] == ["image: %s -> runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404" % IMAGE]
    assert drifted["id"] == first["id"]
    forced = pod({"image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404", "force": True})
    assert forced["changed"] is True and forced["id"] != first["id"]
    assert forced["pod"]["image"] == "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404"
    assert names(sandbox) == ["fac-test"]


def test_public_key_reaches_the_pod_and_env_values_are_not_returned(sandbox, tmp_path):
    key = tmp_path / "id.pub"
    key.write_text("ssh-ed25519 AAAAC3Nza test@host\n")
    created = pod({"ssh_public_key_file": str(key), "env": {"HF_TOKEN": "hf_secret_value"}})
    state = sandbox.pods()[0]
    assert "PUBLIC_KEY=ssh-ed25519 AAAAC3Nza test@host" in state["env"]
    assert created["pod"]["env_keys"] == ["HF_TOKEN", "PUBLIC_KEY"]
    assert "hf_secret_value" not in created["_stdout"]


def test_api_key_never_appears_in_output(sandbox):
    result = pod({"api_key": sandbox.api_key})
    assert sandbox.api_key not in result["_stdout"] + result["_stderr"]


@pytest.mark.parametrize("args,expected", [
    ({"gpu": ["B9000"]}, "gpu: unknown GPU 'B9000'; use one of"),
    ({"gpu": ["A4000"]}, "below min_vram_gb=24"),
    ({"ports": ["22/tcp", "http"]}, "ports: 'http' is not a port"),
    ({"ports": "22/tcp,99999/tcp"}, "ports: '99999/tcp' is not a port"),
    ({"name": 'bad"name'}, "name: 'bad\"name' is not a valid name"),
    ({"image": "img with space"}, "image: 'img with space' is not a valid image"),
    ({"env": {"BAD-KEY": "x"}}, "env key: 'BAD-KEY' is not a valid environment variable name"),
    ({"cloud_type": ["MOON"]}, "cloud_type: 'MOON' is not SECURE, COMMUNITY or ALL"),
    ({"api_key": "wrong"}, "RunPod rejected the API key (HTTP 401)"),
    ({"id": "nosuchpod12345", "state": "running"}, "No pod with id nosuchpod12345"),
    ({"state": "stopped"}, "No pod named 'fac-test' to set stopped"),
    ({"ssh_public_key_file": "/nonexistent/key.pub"}, "ssh_public_key_file: cannot read /nonexistent/key.pub"),
])
def test_bad_input_is_one_clear_line_and_no_mutation(sandbox, args, expected):
    sandbox.clear_requests()
    result = pod(args)
    assert result["failed"] is True
    assert expected in result["msg"], result["msg"]
    assert "\n" not in result["msg"]
    mutations = [r for r in sandbox.requests() if r["query"].lstrip().startswith("mutation")]
    assert mutations == []
    assert sandbox.pods() == []


def test_missing_api_key_is_one_clear_line(sandbox):
    result = pod(env={"RUNPOD_API_KEY": ""})
    assert result["failed"] is True
    assert result["msg"] == ("No RunPod API key: set the api_key option or the RUNPOD_API_KEY "
                             "environment variable.")


def test_two_pods_with_the_same_name_are_never_guessed_between(sandbox):
    sandbox.bulk_pods(2, prefix="fac-dup")  # names fac-dup0, fac-dup1
    first = pod({"name": "fac-dup0"})
    assert first["changed"] is False
    import runpod
    runpod.api_key = sandbox.api_key
    runpod.create_pod("fac-dup0", IMAGE, "NVIDIA A40")
    result = pod({"name": "fac-dup0"})
    assert result["failed"] is True and "2 pods are named 'fac-dup0'" in result["msg"]


def test_interruptible_pods_bid_the_spot_price(sandbox):
    created = pod({"interruptible": True})
    assert created["pod"]["interruptible"] is True
    assert created["cost_per_hr"] < 0.44


def test_an_image_runpod_does_not_have_leaves_the_pod_without_runtime_and_is_named(sandbox):
    """The tag style that stops at torch 2.6.0: RunPod keeps such a pod RUNNING with no runtime, for good."""
    missing = "runpod/pytorch:2.8.0-py3.11-cuda12.8.1-devel-ubuntu22.04"
    result = pod({"image": missing, "wait_timeout": 4})
    assert result["failed"] is True
    assert "RUNNING but the container never started" in result["msg"]
    assert "the image '%s' may not exist" % missing in result["msg"]
    assert "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204" in result["msg"]  # what to use instead
    assert sandbox.pods()[0]["runtime"] is None
    sandbox.reset()
    result = pod({"image": missing, "wait_timeout": 4, "terminate_on_failure": True})
    assert result["failed"] is True and "terminated (terminate_on_failure)" in result["msg"]
    assert sandbox.pods() == []


START = "bash -c '/workspace/funaudiochat/bin/funaudiochat-boot & exec /start.sh'"


def test_start_command_is_sent_as_is_and_another_one_is_drift_with_a_way_out(sandbox):
    created = pod({"start_command": START})
    assert created["changed"] is True and created["pod"]["start_command"] == START
    assert sandbox.pods()[0]["dockerArgs"] == START  # as RunPod keeps it: quotes and & untouched
    assert pod({"start_command": START})["changed"] is False
    assert pod()["drift"] == [], "no start_command: the pod's own is not compared"

    other = START.replace("& exec", "; exec")
    drifted = pod({"start_command": other})
    assert drifted["changed"] is False and drifted["drift"] == ["start command: %r -> %r" % (START, other)]
    warned = json.dumps(drifted["warnings"])  # strings before ansible-core 2.19, structured events since
    assert "differs from the request (start command:" in warned
    assert "recreate it to apply it (force: true, or terminate.yml then deploy.yml" in warned
    assert "run reprovision.yml after each stop/resume" in warned
    forced = pod({"start_command": other, "force": True})
    assert forced["changed"] is True and forced["id"] != created["id"] and forced["pod"]["start_command"] == other
    assert names(sandbox) == ["fac-test"]


@pytest.mark.parametrize("command, words", [
    ("bash -c 'echo hi & exec /start.sh", "cannot be read as shell words"),
    ("bash -c 'boot\nexec /start.sh'", "must be one line"),
    ("sleep infinity", "never runs /start.sh, so sshd never starts"),
])
def test_a_bad_start_command_is_refused_in_one_line_before_any_pod_is_made(sandbox, command, words):
    result = pod({"start_command": command})
    assert result["failed"] is True and result["msg"].startswith("start_command: ") and words in result["msg"]
    assert "\n" not in result["msg"] and sandbox.pods() == []


def test_a_start_command_without_start_sh_is_allowed_when_nothing_waits_for_ssh(sandbox):
    result = pod({"start_command": "sleep infinity", "wait": False})
    assert result["changed"] is True and sandbox.pods()[0]["dockerArgs"] == "sleep infinity"


def test_runpod_stops_a_pod_by_itself_at_the_stop_after_time_sent_at_creation(sandbox):
    # 0.001 h = 3.6 s: RunPod's backstop, which needs nothing on the pod.
    created = pod({"stop_after_hours": 0.001})
    sent = [entry["variables"]["input"] for entry in sandbox.requests()
            if "podFindAndDeployOnDemand" in entry["operations"]]
    assert sent[-1]["stopAfter"] == created["stop_after"]
    made_at = time.mktime(time.strptime(created["stop_after"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())
    assert -1 <= made_at <= 5, created["stop_after"]
    deadline = time.monotonic() + 30
    while sandbox.pods()[0]["desiredStatus"] == "RUNNING":
        assert time.monotonic() < deadline, "RunPod did not stop the pod at its stopAfter time"
        time.sleep(0.2)
    # A pod found already made keeps what it was made with: nothing is sent, nothing changes.
    again = pod({"stop_after_hours": 0.001, "state": "stopped"})
    assert "stop_after" not in again and again["changed"] is False
    # 0 sends none.
    pod({"name": "fac-test-2"})
    last = [entry["variables"]["input"] for entry in sandbox.requests()
            if "podFindAndDeployOnDemand" in entry["operations"]][-1]
    assert last["name"] == "fac-test-2" and "stopAfter" not in last
