"""The deploy_plan action through ansible-playbook, against the sandbox API: what deploy.yml will make, from the
run's variables and the roles' own defaults, with the GPU memory asked of RunPod."""

from tests.helpers import run_playbook, task_results

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - funaudiochat.runpod.deploy_plan:
"""


def plan(tmp_path, **extra_vars):
    playbook = tmp_path / "plan.yml"
    playbook.write_text(PLAY)
    rc, out, err = run_playbook(str(playbook), extra_vars=extra_vars)
    return rc, task_results(out)[0][1], err


def test_a_pod_behind_its_front_door_publishes_ssh_and_the_door_and_runs_a_server_per_28_gb(sdk, tmp_path):
    rc, result, err = plan(tmp_path, gpu="A100")
    assert rc == 0, err
    facts = result["ansible_facts"]
    assert facts["fac_pod_names"] == ["fac-1"] and facts["fac_fleet"] == ""
    assert facts["fac_ports"] == ["22/tcp", "8000/http", "8010/tcp"]
    assert facts["fac_server_total"] == 2, "80 GB over 28 GB per server"
    assert facts["fac_backstop_hours"] == 24.0
    assert facts["fac_start_command"].startswith("bash -c 'b=/workspace/funaudiochat/bin/funaudiochat-boot;")


def test_without_a_front_door_each_server_port_is_published_past_the_reserved_ones(sdk, tmp_path):
    rc, result, err = plan(tmp_path, gpu="H200", gpu_count=2, front_door=False, max_hours=2, server_port=7999)
    assert rc == 0, err
    facts = result["ansible_facts"]
    assert facts["fac_server_total"] == 10
    assert facts["fac_ports"] == ["22/tcp"] + ["%d/tcp" % port for port in
                                               (7999, 8002, 8003, 8004, 8005, 8006, 8007, 8008, 8009, 8011)]
    assert facts["fac_backstop_hours"] == 2.0


def test_a_smaller_fleet_names_the_pods_it_leaves_and_a_bad_gpu_is_refused_before_any_pod(sdk, tmp_path):
    for name in ("fac-1", "fac-2", "fac-3", "fac-other"):
        sdk.create_pod(name, "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "NVIDIA A40", ports="22/tcp")
    rc, result, err = plan(tmp_path, pod_count=2, servers_per_pod=1)
    assert rc == 0, err
    facts = result["ansible_facts"]
    assert facts["fac_pod_names"] == ["fac-1", "fac-2"] and facts["fac_fleet"] == "fac"
    assert [pod["name"] for pod in facts["fac_fleet_extra"]] == ["fac-3"] and facts["fac_fleet_size"] == 3
    rc, result, _err = plan(tmp_path, gpu="B999")
    assert rc != 0 and "unknown GPU 'B999'" in result["msg"]
    assert len(sdk.get_pods()) == 4
