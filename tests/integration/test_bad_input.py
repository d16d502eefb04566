"""Bad input, table-driven: every kind of wrong value is refused in one clear line before anything changes.

Modules (against the sandbox API: no mutation may reach it), the inventory
plugin (a bad option fails before RunPod is asked), the roles (argument specs)
and deploy.yml's variables. docs/RELIABILITY.md lists the classes.
"""

import json
import os
import subprocess
import textwrap

import pytest

from tests.helpers import ANSIBLE_BIN, REPO_ROOT, ansible_env, pod_stage_vars, run_module, run_playbook

IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"
POD = dict(name="fac-bad", gpu=["A40"], image=IMAGE, ports=["22/tcp"], wait_timeout=30)

# (module, arguments, words the one-line message must contain)
MODULE_CASES = [
    ("pod", dict(POD, container_disk_gb=0), "container_disk_gb: must be between 1 and"),
    ("pod", dict(POD, volume_gb=-3), "volume_gb: must be between 0 and"),
    ("pod", dict(POD, gpu_count=0), "gpu_count: must be between 1 and 8"),
    ("pod", dict(POD, gpu_count=9), "gpu_count: must be between 1 and 8"),
    ("pod", dict(POD, wait_timeout=0), "wait_timeout: must be between 1"),
    ("pod", dict(POD, ssh_private_port=70000), "ssh_private_port: must be between 1 and 65535"),
    ("pod", dict(POD, interruptible=True, bid_per_gpu=-1.0), "bid_per_gpu: must be between"),
    ("pod", dict(POD, min_vram_gb=-1), "min_vram_gb: must be between 0"),
    ("pod", dict(POD, name='fac"1'), "name"),
    ("pod", dict(POD, name="fac\n1"), "name"),
    ("pod", dict(POD, gpu=["Z9000"]), "unknown GPU 'Z9000'"),
    ("pod", dict(POD, gpu=[]), "gpu: required"),
    ("pod", dict(POD, gpu=["A4000"]), "below min_vram_gb=24"),
    ("pod", dict(POD, image='runpod/pytorch:"x'), "image"),
    ("pod", dict(POD, cloud_type=["MOON"]), "cloud_type: 'MOON' is not SECURE, COMMUNITY or ALL"),
    ("pod", dict(POD, ports=["22/udpx"]), "ports"),
    ("pod", dict(POD, ports=["abc"]), "ports"),
    ("pod", dict(POD, env={"1BAD": "x"}), "env"),
    ("pod", dict(POD, data_center_ids=['EU"RO-1']), "data_center_ids"),
    ("pod", dict(POD, allowed_cuda_versions=["twelve"]), "allowed_cuda_versions"),
    ("pod", dict(POD, ssh_public_key_file="/nonexistent/key.pub"), "ssh_public_key_file: cannot read"),
    ("pod", dict(POD, api_timeout=0), "api_timeout: must be between 1"),
    ("pod", dict(POD, api_base_url="ftp://example.com"), "api_base_url: 'ftp://example.com' is not an http(s) URL"),
    ("pod", dict(POD, state="exploded"), "value of state must be one of"),
    ("pod", dict(id='x"y', state="stopped"), "id"),
    ("pod", dict(state="present"), "one of the following is required: name, id"),
    ("template", dict(name="fac-t", image=IMAGE, container_disk_gb=0), "container_disk_gb: must be between 1"),
    ("template", dict(name="fac-t", image=IMAGE, volume_gb=-1), "volume_gb: must be between 0"),
    ("template", dict(name='fac"t', image=IMAGE), "name"),
    ("template", dict(name="fac-t"), "image: required"),
    ("network_volume", dict(name="fac-v", size_gb=0, data_center_id="EU-RO-1"), "size_gb: must be between 1"),
    ("network_volume", dict(name="fac-v", size_gb=20, data_center_id='EU"RO'), "data_center_id"),
    ("network_volume", dict(name="fac-v"), "size_gb and data_center_id are required"),
    ("gpu_info", dict(gpu_count=0), "gpu_count: must be between 1 and 8"),
    ("gpu_info", dict(min_vram_gb=-5), "min_vram_gb: must be between 0"),
    ("gpu_info", dict(gpu=["Z9000"]), "unknown GPU 'Z9000'"),
    ("gpu_info", dict(allowed_cuda_versions=["x.y"]), "allowed_cuda_versions"),
    ("pod_info", dict(id='x"'), "id"),
    ("pod_info", dict(ssh_private_port=0), "ssh_private_port: must be between 1 and 65535"),
    ("s2s_check", dict(url="http://127.0.0.1:1/api/chat"), "is not a websocket URL"),
    ("s2s_check", dict(host="127.0.0.1", port=0), "port: must be between 1 and 65535"),
    ("s2s_check", dict(host="127.0.0.1", reply_timeout=0), "reply_timeout: must be between 1"),
    ("s2s_check", dict(host="127.0.0.1", idle_seconds=0), "idle_seconds: must be between 0.1"),
    ("s2s_check", dict(host="127.0.0.1", question_audio="/nonexistent.wav"), "question_audio: cannot read"),
    ("s2s_check", dict(url="ws://x/api/chat", host="x"), "mutually exclusive"),
]

INVENTORY_CASES = [
    (dict(statuses=["BOGUS"]), "statuses: 'BOGUS' is not a pod status"),
    (dict(api_timeout=0), "api_timeout: must be between 1"),
    (dict(ssh_private_port=0), "ssh_private_port: must be between 1 and 65535"),
    (dict(api_base_url="ftp://example.com"), "api_base_url: 'ftp://example.com' is not an http(s) URL"),
]

ROLE_CASES = [
    ("server", dict(server_port="not-a-port"), "server_port"),
    ("models", dict(models_source="ftp"), "models_source"),
    ("torch", dict(torch_require_gpu="maybe"), "torch_require_gpu"),
    ("app", dict(app_extra_packages={"sphn": 1}), "app_extra_packages"),
    ("server", dict(server_port=70000), "server role: a number is out of bounds"),
    ("models", dict(models_progress_interval=0), "models role: a number is out of bounds"),
    ("server", dict(server_count=-1), "server role: a number is out of bounds"),
    ("front_door", dict(front_door_servers="127.0.0.1:8002"), "front_door_servers"),
    ("front_door", dict(front_door_max_queue=0), "front_door role: a number is out of bounds"),
    ("front_door", dict(front_door_users="alice:hunter2hunter2"), "front_door_users"),
]

PLAYBOOK_CASES = [
    (dict(gpu="Z9000"), "unknown GPU 'Z9000'"),
    (dict(gpu=""), "gpu: name at least one GPU, for example A40"),
    (dict(pod_name='fac"x'), "name"),
    (dict(volume_gb=-3), "volume_gb must be a whole number, 0 or more (got -3)"),
    (dict(container_disk_gb=0), "container_disk_gb must be a whole number, 1 or more (got 0)"),
    (dict(ports=["22/tcp", "x"]), "ports"),
    (dict(servers_per_pod="many"), "servers_per_pod must be a whole number, 0 or more (got many)"),
    (dict(pod_count=0), "pod_count must be a whole number, 1 or more (got 0)"),
    (dict(pod_count="two"), "pod_count must be a whole number, 1 or more (got two)"),
    (dict(idle_stop_minutes="30m"), "idle_stop_minutes must be whole minutes, 0 or more (got 30m); 0: the pod never stops itself"),
    (dict(idle_stop_minutes=-5), "idle_stop_minutes must be whole minutes, 0 or more"),
    (dict(max_hours="abc"), "max_hours must be a number of hours, 0 or more (got abc); 0: no cap"),
    (dict(backstop_hours="1d"), "backstop_hours must be a number of hours, 0 or more (got 1d); 0: none"),
    (dict(gpu_count=9), "gpu_count must be a whole number from 1 to 8 (got 9)"),
    (dict(pod_count=30), "pod_count=30 would make 30 GPU pods at once (more than 10): re-run with -e confirm=yes"),
    (dict(front_door_key="tooshort-x"), "front_door_key must be 16 or more letters, digits, - or _"),
]

MUTATIONS = {"podFindAndDeployOnDemand", "podRentInterruptable", "podStop", "podResume", "podBidResume",
             "podTerminate", "saveTemplate", "deleteTemplate", "createNetworkVolume", "updateNetworkVolume",
             "deleteNetworkVolume"}


def _nothing_changed(sandbox):
    sent = [op for entry in sandbox.requests() for op in entry["operations"] if op in MUTATIONS]
    assert sent == [], "a mutation reached RunPod: %s" % sent
    assert sandbox.pods() == []


@pytest.mark.parametrize("module, args, words", MODULE_CASES,
                         ids=["%s-%d" % (case[0], index) for index, case in enumerate(MODULE_CASES)])
def test_a_module_refuses_bad_input_in_one_line_and_sends_nothing(sandbox, module, args, words):
    sandbox.clear_requests()
    result = run_module(module, args)
    assert result.get("failed") is True, result
    assert words in result["msg"], result["msg"]
    assert "\n" not in result["msg"] and len(result["msg"]) < 400, result["msg"]
    _nothing_changed(sandbox)


@pytest.mark.parametrize("options, words", INVENTORY_CASES, ids=[c[1].split(":")[0] for c in INVENTORY_CASES])
def test_the_inventory_plugin_refuses_bad_options_before_asking_runpod(sandbox, tmp_path, options, words):
    sandbox.clear_requests()
    config = tmp_path / "bad.runpod.yml"
    config.write_text(json.dumps(dict(options, plugin="funaudiochat.runpod.pods")))
    proc = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-inventory"), "-i", str(config), "--list"],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
                          env=ansible_env({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}))
    assert proc.returncode != 0
    assert words in proc.stderr, proc.stderr
    assert sandbox.requests() == []


@pytest.mark.parametrize("role, variables, option", ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
def test_a_role_refuses_a_bad_variable_before_any_task(tmp_path, role, variables, option):
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          roles:
            - role: funaudiochat.runpod.%s
              vars: %s
        """ % (role, json.dumps(variables))))
    rc, out, _err = run_playbook(str(playbook), json_output=False)
    assert rc != 0
    if "out of bounds" in option:  # ranges: the role's first task, before anything on the pod
        assert option in out and "changed=0" in out and "ok=1" in out
    else:  # types and choices: the argument spec, before any task
        assert "Validating arguments against arg spec" in out and option in out
        assert "changed=0" in out and "ok=0" in out


@pytest.mark.parametrize("users", [[{"name": "al ice", "password": "a long enough secret"}],
                                   [{"name": "alice", "password": "short-secret"[:11]}],
                                   [{"name": "alice", "password": "two\nlines of a secret"}]], ids=["name", "short", "newline"])
def test_a_bad_basic_auth_user_is_refused_in_one_line_that_shows_no_password(tmp_path, users):
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          roles:
            - role: funaudiochat.runpod.front_door
              vars: %s
        """ % json.dumps({"front_door_key": "k" * 32, "front_door_users": users})))
    rc, out, _err = run_playbook(str(playbook), json_output=False, verbosity=3)
    assert rc != 0
    assert ("front_door role: each of front_door_users needs a name (letters, digits, . _ -) and a password of 12 or "
            "more characters with no line break") in out
    assert "changed=0" in out and users[0]["password"] not in out and "k" * 32 not in out


@pytest.mark.parametrize("variables, words", PLAYBOOK_CASES, ids=[list(c[0])[0] for c in PLAYBOOK_CASES])
def test_deploy_refuses_bad_variables_before_creating_anything(sandbox, variables, words):
    sandbox.clear_requests()
    rc, out, _err = run_playbook("playbooks/deploy.yml", pod_stage_vars(sandbox, **dict({"gpu": "A40"}, **variables)),
                                 json_output=False, tags="pod")
    assert rc == 2
    failed = [line for line in out.splitlines() if "FAILED!" in line or "[ERROR]" in line]
    assert failed and words in out, out[-2000:]
    assert "front_door_key" not in variables or variables["front_door_key"] not in out  # a key is never printed
    _nothing_changed(sandbox)


def test_a_typo_in_a_variables_name_is_named_once_instead_of_silently_ignored(sandbox):
    rc, out, err = run_playbook("playbooks/deploy.yml", pod_stage_vars(sandbox, gpu="A40", idel_stop_minutes=5),
                                json_output=False, tags="pod", check=True)
    assert rc == 0, err[-2000:]
    warning = "-e idel_stop_minutes is not a variable this collection reads: did you mean idle_stop_minutes?"
    # Checked once per run, though deploy.yml imports prefetch.yml and provision.yml, which check too.
    assert (out + err).count(warning) == 1, out + err
