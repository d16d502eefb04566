"""template and network_volume: idempotent by name, check mode, diff, bad input."""

from tests.helpers import run_module

TEMPLATE = dict(name="fac-template", image="runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", start_command='bash -c "sleep 1"',
                ports=["22/tcp", "8002/tcp"], env={"HF_TOKEN": "hf_template_secret"})


def test_template_lifecycle(sandbox):
    checked = run_module("template", TEMPLATE, check=True, diff=True)
    assert checked["changed"] is True and checked["template"]["id"] is None
    assert run_module("template", dict(name="fac-template", state="absent"))["changed"] is False

    created = run_module("template", TEMPLATE)
    assert created["changed"] is True and created["template"]["id"]
    assert "diff" not in created, "a diff only with --diff, as the other modules"
    assert created["template"]["env_keys"] == ["HF_TOKEN"]
    assert "hf_template_secret" not in created["_stdout"]
    assert run_module("template", TEMPLATE)["changed"] is False

    changed = dict(TEMPLATE, container_disk_gb=80)
    diff = run_module("template", changed, check=True, diff=True)
    assert diff["changed"] is True
    assert diff["diff"]["before"]["container_disk_gb"] == 50 and diff["diff"]["after"]["container_disk_gb"] == 80
    updated = run_module("template", changed)
    assert updated["changed"] is True and updated["template"]["id"] == created["template"]["id"]
    assert run_module("template", changed)["changed"] is False

    new_secret = dict(changed, env={"HF_TOKEN": "rotated"})
    assert run_module("template", new_secret)["changed"] is True, "a changed env value is a change"

    assert run_module("template", dict(name="fac-template", state="absent"), check=True)["changed"] is True
    assert run_module("template", dict(name="fac-template", state="absent"))["changed"] is True
    assert run_module("template", dict(name="fac-template", state="absent"))["changed"] is False


def test_template_bad_input(sandbox):
    result = run_module("template", dict(TEMPLATE, ports="22/tcp,x"))
    assert result["failed"] and result["msg"].startswith("ports: 'x' is not a port")
    result = run_module("template", dict(name="fac-template"))
    assert result["failed"] and "image: required" in result["msg"]


def test_network_volume_lifecycle(sandbox):
    spec = dict(name="fac-models", size_gb=50, data_center_id="EU-RO-1")
    checked = run_module("network_volume", spec, check=True, diff=True)
    assert checked["changed"] is True and checked["volume"]["id"] is None
    created = run_module("network_volume", spec)
    assert created["changed"] is True and created["volume"]["size_gb"] == 50
    assert "diff" not in created, "a diff only with --diff, as the other modules"
    assert run_module("network_volume", spec)["changed"] is False

    grown = run_module("network_volume", dict(spec, size_gb=80), diff=True)
    assert grown["changed"] is True and grown["diff"]["before"]["size_gb"] == 50
    assert grown["volume"]["size_gb"] == 80
    shrink = run_module("network_volume", dict(spec, size_gb=10))
    assert shrink["failed"] and "cannot shrink" in shrink["msg"]
    moved = run_module("network_volume", dict(spec, size_gb=80, data_center_id="US-TX-3"))
    assert moved["failed"] and "cannot move" in moved["msg"]

    assert run_module("network_volume", dict(name="fac-models", state="absent"))["changed"] is True
    assert run_module("network_volume", dict(name="fac-models", state="absent"))["changed"] is False


def test_network_volume_create_answer_lost_makes_one_volume(sandbox):
    sandbox.fault(kind="after", status=502, operation="createNetworkVolume")
    created = run_module("network_volume", dict(name="fac-models", size_gb=20, data_center_id="EU-RO-1"))
    assert created["changed"] is True and created["volume"]["id"]
    volumes = sandbox.admin("GET", "state")["state"]["network_volumes"]
    assert len(volumes) == 1


def test_pod_uses_network_volume_in_its_data_center(sandbox):
    volume = run_module("network_volume", dict(name="cache", size_gb=20, data_center_id="US-TX-3"))
    made = run_module("pod", dict(name="fac-nv", gpu="A40", image="runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
                                  network_volume_id=volume["volume"]["id"]))
    assert made["pod"]["network_volume_id"] == volume["volume"]["id"]
    assert made["pod"]["data_center"] == "US-TX-3"
