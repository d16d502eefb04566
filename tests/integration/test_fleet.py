"""A fleet of pods behind one front door: deploy.yml -e pod_count=3 on sandbox A40s (one server each), then a
rolling reprovision.yml through the inventory plugin while a client talks through the front door. A slow
suite (about 9 minutes here): `make test-full` runs it; the fleet's pod stage (made at once, no duplicates, a
smaller pod_count) is in test_fleet_pods.py, in `make test`.

What operators rely on: the pods are made at once and named <fleet>-1..N; the front door on the first pod
sends sessions to every pod's servers through their own front doors, by name at RunPod's HTTPS proxy (never
by a public IP and port, which a resume changes); the report has a line for the fleet; the inventory plugin
groups the fleet; a rolling re-provision takes one pod at a time out of the front door and puts it back after
its spoken check, so a client talking in a loop meanwhile gets every turn answered; a pod stopped and resumed
with no Ansible run is back in the front door by itself, and its old address gets no conversation.
"""

import json
import socket
import subprocess
import threading
import time

import pytest
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _pods, _probe, _s2s

from tests.helpers import (ANSIBLE_BIN, REPO_ROOT, TalkingClient, answered_at, ansible_env, door_key, fleet_inventory,
                           made_pods, run_module, run_playbook, sdk, ssh, stats, task_results, unwrap_unsafe)

pytestmark = pytest.mark.slow

FLEET = "fleet"
PODS = ["fleet-1", "fleet-2", "fleet-3"]
OUTSIDER = "fleet-x"  # not <fleet>-<number>: in no fleet
ROLL = "Bring up Fun-Audio-Chat on the pods"


def deploy(stack, tmp_path, expect_rc=0, **extra):
    env = stack.env()
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    extra_vars = stack.deploy_vars(pod_name=FLEET, gpu="A40", volume_gb=20, **extra)
    rc, out, err = run_playbook("playbooks/deploy.yml", extra_vars=extra_vars, env=env)
    if expect_rc == 0:
        failed = [(host, name, result.get("msg")) for host in out["stats"]
                  for name, result in task_results(out, host) if result.get("failed")]
        assert rc == 0, (failed, err[-3000:])
    assert rc == expect_rc, err[-3000:]
    return out, json.loads(report.read_text()) if report.exists() else {}


@pytest.fixture(scope="module")
def fleet(sandbox_stack, tmp_path_factory):
    stack = sandbox_stack
    tmp_path = tmp_path_factory.mktemp("fleet")
    env = stack.env()
    outsider = run_module("pod", {"name": OUTSIDER, "gpu": ["A40"], "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
                                  "ports": ["22/tcp"], "ssh_public_key_file": stack.ssh_key + ".pub"}, env=env)
    assert outsider["changed"] is True, outsider
    try:
        out, report = deploy(stack, tmp_path, pod_count=3)
        yield stack, tmp_path, out, report, outsider["id"]
    finally:
        for name in PODS + [OUTSIDER]:
            run_module("pod", {"name": name, "state": "absent"}, env=env)


def front_door_of(report):
    return report[PODS[0]]["front_door"]["url"]


def test_a_fleet_is_made_at_once_and_its_front_door_serves_every_pods_server(fleet):
    stack, _tmp_path, out, report, _outsider = fleet
    pods = made_pods(out)
    assert sorted(pods) == PODS
    # Made in the background, side by side, then waited for.
    launched = dict(task_results(out))["Create or start the pods, failing over across GPUs and cloud types"]
    assert all(item.get("ansible_job_id") for item in launched["results"])
    assert all(pod["pod"]["fleet"] == FLEET for pod in pods.values())

    assert [report[name]["verdict"] for name in PODS] == ["PASSED"] * 3
    # One front door, on the first pod, in front of all three pods' servers: three conversations at once.
    door = report[PODS[0]]["front_door"]
    assert door == dict(door, sessions=3, answered=3, passed=True)
    assert report[PODS[1]]["front_door"] is None and report[PODS[2]]["front_door"] is None
    https = "wss://%s-8000.proxy.runpod.net/api/chat" % made_pods(out)[PODS[0]]["id"]
    assert door["https_url"] == https and "  front door over HTTPS: %s" % https in out["report_text"]
    first = pods[PODS[0]]
    config = ssh(first["ssh_host"], first["ssh_port"], stack.ssh_key,
                 "grep -E '^ +server ' /workspace/funaudiochat/front-door/haproxy.cfg").stdout.split("\n")
    addresses = dict(line.split()[1:3] for line in config if line.strip() and " door " not in line)
    assert addresses.pop("web") == "127.0.0.1:8020"  # the web page's file server, on the front door's pod
    # The other pods' servers, through their own front doors: a loopback listener each, which reaches that pod
    # by its name at RunPod's HTTPS proxy (never by its public IP and ports, which a resume changes).
    assert addresses == {"fleet-1.funaudiochat": "127.0.0.1:8002", "fleet-2.funaudiochat": "127.0.0.1:8100",
                         "fleet-3.funaudiochat": "127.0.0.1:8101"}
    doors = [line.split() for line in config if " door " in line]
    assert ["sni str(%s-8000.proxy.runpod.net)" % pods[name]["id"] in " ".join(door) for door, name in
            zip(doors, PODS[1:])] == [True, True], doors
    # Every pod publishes SSH's port and its own locked front door's, no server's.
    assert all(sorted(pod["ports"]) == ["22", "8010"] for pod in pods.values()), pods
    fleet_line = [line for line in out["report_text"].splitlines() if line.startswith("fleet:")]
    cost = sum(pod["cost_per_hr"] for pod in pods.values())
    assert fleet_line == ["fleet: 3 pods, 3 of 3 servers answered, 3 conversations at once through the front door, "
                          "%.2f USD/h in all" % cost]

    # status.yml hands out the one front door: the fleet's other pods point to it.
    rc, status, err = run_playbook("playbooks/status.yml", {"name_prefix": FLEET + "-"}, env=stack.env())
    assert rc == 0, err
    rows = dict((line.split()[0], line.rstrip()) for line in dict(task_results(status))["Show the pods"]["msg"].splitlines())
    assert rows["fleet-1"].endswith(door["url"])
    assert rows["fleet-2"].endswith("via fleet-1") and rows["fleet-3"].endswith("via fleet-1")
    https = dict(task_results(status))["Show the front door's HTTPS addresses of each running pod that has a front door"]
    assert [item["msg"] for item in https["results"]] == [
        "fleet-1: talk in a browser: https://{0}-8000.proxy.runpod.net/login?key={1} (the owner's link: share it only "
        "with people you invite); wss://{0}-8000.proxy.runpod.net/api/chat (Authorization: Bearer, the door's key)".format(
            pods["fleet-1"]["id"], door_key(stack, FLEET))]


def test_the_inventory_plugin_groups_the_fleet_and_leaves_other_pods_out(fleet, tmp_path):
    stack = fleet[0]
    proc = subprocess.run([ANSIBLE_BIN + "/ansible-inventory", "-i", fleet_inventory(tmp_path, FLEET + "-"), "--list"],
                          capture_output=True, text=True, env=ansible_env(stack.env()), cwd=REPO_ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    data = unwrap_unsafe(json.loads(proc.stdout))
    assert sorted(data["runpod_fleet_fleet"]["hosts"]) == PODS
    assert data["_meta"]["hostvars"][OUTSIDER]["runpod_fleet"] is None


def test_a_rolling_reprovision_answers_every_turn_and_a_second_one_changes_nothing(fleet, tmp_path):
    stack, _tmp, _out, report, _outsider = fleet
    inventory = fleet_inventory(tmp_path, FLEET + "-")
    client = TalkingClient(front_door_of(report), door_key(stack, FLEET))
    client.start()
    try:
        client.wait_for_a_turn()  # talking before the roll starts
        # A changed server environment restarts every pod's servers, one pod at a time; the fleet's pods only.
        # A real server loads its models for minutes: 15 s is long enough that a session sent to a restarting
        # server would fail (without the drain, a roll like this one loses turns: see the note).
        extra = stack.deploy_vars(server_environment={"FLEET_ROLL": "1", "FAC_STANDIN_LOAD_SECONDS": "15"},
                                  provision_hosts="runpod_fleet_" + FLEET)
        rc, out, err = run_playbook("playbooks/reprovision.yml", extra_vars=extra, env=stack.env(), inventory=inventory)
        assert rc == 0, err[-3000:]
    finally:
        client.stop()
    # One batch per pod, in order, each changing its servers.
    batches = [play for play in out["plays"] if play["play"]["name"] == ROLL]
    assert [sorted(play["tasks"][0]["hosts"]) for play in batches] == [[name] for name in PODS]
    assert all(stats(out, name)["changed"] > 0 for name in PODS)
    for name in PODS:
        states = [json.loads(result["stdout"])["status"] for task, result in task_results(out, name)
                  if task.startswith("funaudiochat.runpod.front_door : Set a pod's servers at the front door")]
        assert states == [{"%s.funaudiochat" % name: "DRAIN"}, {"%s.funaudiochat" % name: "UP"}]
    # Every turn of the client, before, during and after the roll, got a whole answer: none failed, none was cut.
    assert len(client.turns) >= 10 and [failures for failures in client.turns if failures] == []

    again, _err = run_playbook("playbooks/reprovision.yml", extra_vars=extra, env=stack.env(), inventory=inventory)[1:]
    assert all(stats(again, name)["changed"] == 0 for name in PODS), again["stats"]


def test_a_fleet_pod_resumed_with_no_ansible_run_is_back_in_the_door_and_its_old_address_gets_nothing(fleet):
    # RunPod gives a resumed pod new public ports, and the old ones may then be another customer's: here a
    # listener of ours holds the old address of the pod's door. The fleet's front door must find the pod again by
    # itself (by its name at RunPod's HTTPS proxy) and never send a conversation to the old address.
    stack, _tmp, out, report, _outsider = fleet
    runpod = sdk(stack)
    pod_id = made_pods(out)[PODS[2]]["id"]
    old_ip, old_port = _pods.public_ports(runpod.get_pod(pod_id))[8010]
    runpod.stop_pod(pod_id)
    stranger = socket.socket()
    stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    freed = time.monotonic()
    while True:  # the stopped pod's container lets go of the port as it goes
        try:
            stranger.bind((old_ip, old_port))
            break
        except OSError:
            assert time.monotonic() - freed < 60, "the stopped pod's port %s was not freed" % old_port
            time.sleep(0.5)
    stranger.listen(16)
    stranger.settimeout(0.2)
    reached = []
    stop = threading.Event()

    def count_arrivals():
        while not stop.is_set():
            try:
                conn, peer = stranger.accept()
                reached.append(peer)
                conn.close()
            except socket.timeout:
                continue

    watcher = threading.Thread(target=count_arrivals, daemon=True)
    watcher.start()
    try:
        runpod.resume_pod(pod_id, 1)
        url = front_door_of(report).split("?")[0] + "?server=%s.funaudiochat" % PODS[2]
        key = door_key(stack, FLEET)
        back = answered_at(url, key, timeout=300, what="the resumed pod, through the front door")
        pcm = _s2s.decode_opus(_probe.ogg_opus())
        print("fleet pod resumed -> answered through the front door by name, no Ansible run: %.1f s" % back)
        assert _pods.public_ports(runpod.get_pod(pod_id))[8010] != (old_ip, old_port)
        # Conversations through the door, to that pod by name and to any server: all answered, none at the old address.
        for target in (url, front_door_of(report), url):
            answer = _s2s.converse(target, pcm, expect=_probe.EXPECT, connect_timeout=5, reply_timeout=60, door_key=key)
            assert answer["failures"] == [], answer["failures"]
    finally:
        stop.set()
        watcher.join()
        stranger.close()
    assert reached == [], "conversations went to the pod's old address: %s" % reached
