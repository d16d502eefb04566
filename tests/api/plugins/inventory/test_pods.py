"""The pods inventory plugin through ansible-inventory, against the sandbox."""

import json
import os
import subprocess

import yaml

from tests.helpers import ANSIBLE_BIN, ansible_env, run_module, unwrap_unsafe


def inventory(tmp_path, config, env=None, extra_args=()):
    path = tmp_path / "test.runpod.yml"
    path.write_text(yaml.safe_dump(dict({"plugin": "funaudiochat.runpod.pods"}, **config)))
    proc = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-inventory"), "-i", str(path), "--list",
                           *extra_args], capture_output=True, text=True, env=ansible_env(env), check=False)
    start = proc.stdout.find("\n{") + 1 if not proc.stdout.startswith("{") else 0
    data = unwrap_unsafe(json.loads(proc.stdout[start:])) if proc.returncode == 0 and "{" in proc.stdout else None
    return proc, data


def groups_of(data, host):
    return sorted(name for name, group in data.items()
                  if name != "_meta" and host in (group.get("hosts") or []))


def make(sdk, name, gpu="NVIDIA A40", env=None):
    return sdk.create_pod(name, "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", gpu, ports="22/tcp,8002/tcp", env=env or {})["id"]


def test_hosts_vars_and_default_groups(sdk, tmp_path):
    pod_id = make(sdk, "fac-a", env={"HF_TOKEN": "hf_inventory_secret"})
    make(sdk, "fac-b", gpu="NVIDIA L40S")
    stopped = make(sdk, "fac-stopped")
    sdk.stop_pod(stopped)

    proc, data = inventory(tmp_path, {})
    assert proc.returncode == 0, proc.stderr
    hostvars = data["_meta"]["hostvars"]
    assert sorted(hostvars) == ["fac-a", "fac-b"]
    a = hostvars["fac-a"]
    pod = sdk.get_pod(pod_id)
    ssh = [p for p in pod["runtime"]["ports"] if p["privatePort"] == 22][0]
    assert a["ansible_host"] == ssh["ip"] and a["ansible_port"] == ssh["publicPort"]
    assert a["ansible_user"] == "root"
    assert a["runpod_id"] == pod_id and a["runpod_name"] == "fac-a" and a["runpod_status"] == "RUNNING"
    assert a["runpod_gpu"] == "A40" and a["runpod_gpu_count"] == 1 and a["runpod_cost_per_hr"] == 0.44
    assert a["runpod_image"] == "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204" and a["runpod_data_center"] == "EU-RO-1"
    assert a["runpod_ports"]["22"] == ssh["publicPort"] and "8002" in a["runpod_ports"]
    assert a["runpod_env_keys"] == ["HF_TOKEN"]
    assert groups_of(data, "fac-a") == ["runpod", "runpod_gpu_a40", "runpod_status_running"]
    assert groups_of(data, "fac-b") == ["runpod", "runpod_gpu_l40s", "runpod_status_running"]
    assert "hf_inventory_secret" not in proc.stdout


def test_unreachable_pods_are_left_out_with_a_message_or_included(sdk, tmp_path):
    stopped = make(sdk, "fac-stopped")
    sdk.stop_pod(stopped)
    proc, data = inventory(tmp_path, {"statuses": ["RUNNING", "EXITED"]}, extra_args=["-v"])
    assert data["_meta"]["hostvars"] == {}
    assert "leaving out pod fac-stopped" in proc.stdout + proc.stderr
    proc, data = inventory(tmp_path, {"statuses": ["RUNNING", "EXITED"], "include_unreachable": True})
    host = data["_meta"]["hostvars"]["fac-stopped"]
    assert "ansible_host" not in host and host["runpod_status"] == "EXITED"
    assert groups_of(data, "fac-stopped") == ["runpod", "runpod_gpu_a40", "runpod_status_exited"]


def test_filters_hostname_and_duplicates(sdk, tmp_path):
    make(sdk, "fac-a")
    make(sdk, "other")
    make(sdk, "fac-h", gpu="NVIDIA H100 PCIe")
    dup1, dup2 = make(sdk, "fac-dup"), make(sdk, "fac-dup")
    _proc, data = inventory(tmp_path, {"name_prefix": "fac-"})
    assert sorted(data["_meta"]["hostvars"]) == sorted(["fac-a", "fac-h", "fac-dup-" + dup1, "fac-dup-" + dup2])
    _proc, data = inventory(tmp_path, {"name_patterns": ["fac-?", "oth*"]})
    assert sorted(data["_meta"]["hostvars"]) == ["fac-a", "fac-h", "other"]
    _proc, data = inventory(tmp_path, {"gpu_types": ["H100"]})
    assert sorted(data["_meta"]["hostvars"]) == ["fac-h"]
    _proc, data = inventory(tmp_path, {"name_prefix": "oth", "hostname": "id"})
    assert list(data["_meta"]["hostvars"]) == [data["_meta"]["hostvars"][list(data["_meta"]["hostvars"])[0]]["runpod_id"]]
    _proc, data = inventory(tmp_path, {"name_prefix": "oth", "hostname": "runpod_name ~ '.' ~ runpod_data_center"})
    assert list(data["_meta"]["hostvars"]) == ["other.EU-RO-1"]


def test_a_fleets_pods_share_a_group_and_other_pods_stay_out_of_it(sdk, tmp_path):
    for name in ("fac-1", "fac-2", "fac-10", "demo-1", "fac-a", "fac-01"):
        make(sdk, name)
    _proc, data = inventory(tmp_path, {})
    assert sorted(data["runpod_fleet_fac"]["hosts"]) == ["fac-1", "fac-10", "fac-2"]
    assert data["runpod_fleet_demo"]["hosts"] == ["demo-1"]
    hostvars = data["_meta"]["hostvars"]
    assert hostvars["fac-10"]["runpod_fleet"] == "fac"
    # Not <fleet>-<number> as deploy.yml numbers them: in no fleet.
    assert hostvars["fac-a"]["runpod_fleet"] is None and hostvars["fac-01"]["runpod_fleet"] is None
    assert groups_of(data, "fac-a") == ["runpod", "runpod_gpu_a40", "runpod_status_running"]


def test_constructed_features_and_strict(sdk, tmp_path):
    make(sdk, "fac-a")
    config = {
        "compose": {"fac_ws_url": "'ws://' ~ ansible_host ~ ':' ~ runpod_ports['8002'] ~ '/api/chat'"},
        "groups": {"cheap": "runpod_cost_per_hr < 0.5"},
        "keyed_groups": [{"key": "runpod_data_center", "prefix": "dc"}],
    }
    proc, data = inventory(tmp_path, config)
    assert proc.returncode == 0, proc.stderr
    host = data["_meta"]["hostvars"]["fac-a"]
    assert host["fac_ws_url"] == "ws://127.0.0.1:%d/api/chat" % host["runpod_ports"]["8002"]
    assert "fac-a" in data["cheap"]["hosts"] and "fac-a" in data["dc_EU_RO_1"]["hosts"]

    broken = {"compose": {"x": "no_such_var.attr"}, "strict": True}
    proc, data = inventory(tmp_path, broken)
    assert "no_such_var" in proc.stderr
    assert data is None or data["_meta"]["hostvars"] == {}
    lenient = {"compose": {"x": "no_such_var.attr"}, "strict": False}
    proc, data = inventory(tmp_path, lenient)
    assert list(data["_meta"]["hostvars"]) == ["fac-a"]


def test_cache_hit_makes_no_api_call_and_holds_no_secrets(sdk, sandbox, tmp_path):
    make(sdk, "fac-a", env={"HF_TOKEN": "hf_cached_secret"})
    cache_dir = tmp_path / "cache"
    config = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
              "cache_connection": str(cache_dir), "cache_timeout": 3600}
    proc, first = inventory(tmp_path, config)
    assert proc.returncode == 0, proc.stderr
    sandbox.clear_requests()
    proc, second = inventory(tmp_path, config)
    assert sandbox.requests() == [], "the second run is served from the cache"
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]
    cached = "".join(p.read_text() for p in cache_dir.iterdir())
    assert "fac-a" in cached
    assert "hf_cached_secret" not in cached and sandbox.api_key not in cached

    proc, refreshed = inventory(tmp_path, config, extra_args=["--flush-cache"])
    assert len(sandbox.requests()) == 1


def test_stop_and_resume_show_the_new_port_after_refresh(sdk, tmp_path):
    pod_id = make(sdk, "fac-a")
    _proc, before = inventory(tmp_path, {})
    sdk.stop_pod(pod_id)
    sdk.resume_pod(pod_id, 1)
    _proc, after = inventory(tmp_path, {})
    old = before["_meta"]["hostvars"]["fac-a"]["ansible_port"]
    new = after["_meta"]["hostvars"]["fac-a"]["ansible_port"]
    assert new != old and new == sdk.get_pod(pod_id)["runtime"]["ports"][0]["publicPort"]


def test_one_api_call_per_refresh(sdk, sandbox, tmp_path):
    for index in range(5):
        make(sdk, "fac-%d" % index)
    sandbox.clear_requests()
    inventory(tmp_path, {})
    assert len(sandbox.requests()) == 1


def test_wrong_key_is_one_clear_error_without_the_key(sandbox, tmp_path):
    proc, data = inventory(tmp_path, {"api_key": "wrong-inventory-key"})
    assert "RunPod rejected the API key (HTTP 401)" in proc.stderr
    assert "wrong-inventory-key" not in proc.stdout + proc.stderr


def test_templated_api_key(sdk, sandbox, tmp_path):
    make(sdk, "fac-a")
    proc, data = inventory(tmp_path, {"api_key": "{{ lookup('ansible.builtin.env', 'SECRET_FOR_TEST') }}"},
                           env={"RUNPOD_API_KEY": "", "SECRET_FOR_TEST": sandbox.api_key})
    assert proc.returncode == 0, proc.stderr
    assert list(data["_meta"]["hostvars"]) == ["fac-a"]
    assert sandbox.api_key not in proc.stdout


def test_the_pod_modules_host_is_the_inventory_plugins_host(sdk, tmp_path):
    # A playbook that makes a pod adds it with the module's host entry (deploy.yml, prefetch.yml, status.yml);
    # a later run finds it with the inventory plugin: both must be the same host, variables and SSH options alike.
    made = run_module("pod", {
        "name": "fac-solo", "gpu": "A40", "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
        "ports": ["22/tcp", "8000/http"], "env": {"HF_TOKEN": "hf_host_entry_secret"}})
    assert made["changed"] is True, made
    make(sdk, "fac-fleet-2")  # a fleet's pod: runpod_fleet is set
    found = run_module("pod_info", {"name_prefix": "fac-"})
    proc, data = inventory(tmp_path, {})
    assert proc.returncode == 0, proc.stderr
    hostvars = data["_meta"]["hostvars"]
    for pod in found["pods"]:
        entry = dict(pod["host"])
        assert hostvars[entry.pop("name")] == entry
    module_host = dict(run_module("pod", {
        "name": "fac-solo", "gpu": "A40", "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
        "ports": ["22/tcp", "8000/http"], "env": {"HF_TOKEN": "hf_host_entry_secret"}})["host"])
    assert module_host.pop("name") == "fac-solo" and hostvars["fac-solo"] == module_host
    assert hostvars["fac-fleet-2"]["runpod_fleet"] == "fac-fleet" and hostvars["fac-solo"]["runpod_fleet"] is None
    assert module_host["ansible_ssh_common_args"].startswith("-o HostKeyAlias=runpod-%s " % module_host["runpod_id"])
    assert "hf_host_entry_secret" not in json.dumps(found) + json.dumps(module_host)
