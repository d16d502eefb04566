"""Sandbox pods as real containers: the SDK and the pod module against the podman backend.

What a user relies on: a pod made through RunPod's API is reachable over real
SSH with the key passed as PUBLIC_KEY, reports its GPUs, keeps /workspace (and
only /workspace) across stop/resume, is reached on its new port after a resume,
and is gone, disk included, after terminate.
"""

import hashlib

import runpod

from tests.helpers import run_module, ssh, wait_for_ssh
from tests.sandbox import podman
from tests.sandbox.runpod_api.podman_backend import host_address

# Where sandbox pods publish their ports: this machine's own address, their public IP.
PUBLIC_IP = host_address()


IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"


def _ssh_port(pod):
    return next(p["publicPort"] for p in pod["runtime"]["ports"] if p["privatePort"] == 22)


def _containers(instance):
    return podman.run("ps", "-a", "--filter", "label=%s=%s" % (podman.LABEL, instance),
                      "--format", "{{.Names}}").split()


def _volumes(instance):
    return podman.run("volume", "ls", "-q", "--filter", "label=%s=%s" % (podman.LABEL, instance)).split()


def _running_pod(pod_id):
    pod = runpod.get_pod(pod_id)
    assert pod["desiredStatus"] == "RUNNING" and pod["runtime"], pod
    return pod


def test_sdk_pod_over_ssh_through_stop_resume_terminate(podman_sandbox):
    runpod.api_key = podman_sandbox.api_key
    created = runpod.create_pod(
        "fac-sdk", IMAGE, "NVIDIA A40", gpu_count=2, ports="22/tcp,8002/tcp", volume_in_gb=5,
        volume_mount_path="/workspace", env={"PUBLIC_KEY": podman_sandbox.public_key, "APP_MODE": "sandbox"})
    pod = _running_pod(created["id"])
    port = _ssh_port(pod)
    wait_for_ssh(PUBLIC_IP, port, podman_sandbox.ssh_key)

    probe = ssh(PUBLIC_IP, port, podman_sandbox.ssh_key,
                "echo $RUNPOD_POD_ID $RUNPOD_TCP_PORT_22 $RUNPOD_PUBLIC_IP; nvidia-smi -L;"
                " tr '\\0' '\\n' < /proc/1/environ | grep ^APP_MODE=;"
                " echo kept > /workspace/kept; echo lost > /root/lost")
    assert probe.returncode == 0, probe.stderr
    lines = probe.stdout.splitlines()
    assert lines[0] == "%s %d %s" % (pod["id"], port, PUBLIC_IP)
    assert lines[1:3] == ["GPU 0: NVIDIA A40 (UUID: GPU-sandbox-0000)", "GPU 1: NVIDIA A40 (UUID: GPU-sandbox-0001)"]
    assert lines[3] == "APP_MODE=sandbox"

    runpod.stop_pod(pod["id"])
    assert runpod.get_pod(pod["id"])["runtime"] is None
    assert ssh(PUBLIC_IP, port, podman_sandbox.ssh_key, "true", timeout=20).returncode != 0

    runpod.resume_pod(pod["id"], 2)
    resumed = _running_pod(pod["id"])
    new_port = _ssh_port(resumed)
    assert new_port != port
    wait_for_ssh(PUBLIC_IP, new_port, podman_sandbox.ssh_key)
    after = ssh(PUBLIC_IP, new_port, podman_sandbox.ssh_key,
                "cat /workspace/kept; test -e /root/lost && echo container-disk-survived || true;"
                " echo $RUNPOD_TCP_PORT_22")
    assert after.stdout.split() == ["kept", str(new_port)]

    runpod.terminate_pod(pod["id"])
    assert runpod.get_pod(pod["id"]) is None
    assert _containers(podman_sandbox.instance) == []
    assert _volumes(podman_sandbox.instance) == []


def test_pod_module_returns_a_reachable_ssh_endpoint(podman_sandbox):
    result = run_module("pod", {
        "name": "fac-module", "gpu": ["4090"], "image": IMAGE, "ports": ["22/tcp"],
        "ssh_public_key": podman_sandbox.public_key, "wait": True, "wait_timeout": 120,
    })
    assert result["changed"] is True, result
    # The machine's own address, as a pod's public IP: it answers here and inside other pods.
    assert result["ssh_host"] == PUBLIC_IP
    wait_for_ssh(result["ssh_host"], result["ssh_port"], podman_sandbox.ssh_key, timeout=30)
    gpus = ssh(result["ssh_host"], result["ssh_port"], podman_sandbox.ssh_key,
               "nvidia-smi --query-gpu=name,memory.total --format=csv,noheader")
    assert gpus.stdout.strip() == "NVIDIA GeForce RTX 4090, 23576 MiB"

    again = run_module("pod", {"name": "fac-module", "gpu": ["4090"], "image": IMAGE, "ports": ["22/tcp"],
                               "ssh_public_key": podman_sandbox.public_key, "wait": True})
    assert again["changed"] is False
    assert len(_containers(podman_sandbox.instance)) == 1

    gone = run_module("pod", {"name": "fac-module", "state": "absent"})
    assert gone["changed"] is True
    assert _containers(podman_sandbox.instance) == []


def test_network_volume_outlives_its_pods(podman_sandbox):
    volume = run_module("network_volume", {"name": "fac-models", "size_gb": 10, "data_center_id": "EU-RO-1"})
    assert volume["changed"] is True, volume
    volume_id = volume["volume"]["id"]

    def pod_with_volume(name):
        result = run_module("pod", {
            "name": name, "gpu": ["A40"], "image": IMAGE, "ports": ["22/tcp"], "network_volume_id": volume_id,
            "data_center_ids": ["EU-RO-1"], "ssh_public_key": podman_sandbox.public_key, "wait": True})
        assert result["changed"] is True, result
        wait_for_ssh(result["ssh_host"], result["ssh_port"], podman_sandbox.ssh_key)
        return result

    first = pod_with_volume("fac-writer")
    assert ssh(first["ssh_host"], first["ssh_port"], podman_sandbox.ssh_key,
               "echo weights > /workspace/model.bin").returncode == 0
    assert run_module("pod", {"name": "fac-writer", "state": "absent"})["changed"] is True

    second = pod_with_volume("fac-reader")
    read = ssh(second["ssh_host"], second["ssh_port"], podman_sandbox.ssh_key, "cat /workspace/model.bin")
    assert read.stdout.strip() == "weights"
    assert run_module("pod", {"name": "fac-reader", "state": "absent"})["changed"] is True
    assert run_module("network_volume", {"name": "fac-models", "state": "absent"})["changed"] is True
    assert _volumes(podman_sandbox.instance) == []


def test_pods_trust_the_hosts_ca_bundle(podman_sandbox):
    """apt, curl and pip inside pods reach the network exactly as the host does."""
    result = run_module("pod", {"name": "fac-ca", "gpu": ["A40"], "image": IMAGE, "ports": ["22/tcp"],
                                "ssh_public_key": podman_sandbox.public_key, "wait": True})
    wait_for_ssh(result["ssh_host"], result["ssh_port"], podman_sandbox.ssh_key)
    inside = ssh(result["ssh_host"], result["ssh_port"], podman_sandbox.ssh_key,
                 "sha256sum /etc/ssl/certs/ca-certificates.crt | cut -d' ' -f1; echo $PIP_CERT")
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    with open(bundle, "rb") as handle:
        expected = hashlib.sha256(handle.read()).hexdigest()
    assert inside.stdout.split() == [expected, bundle]


def test_a_pod_stays_reachable_while_other_pods_come_and_go(podman_sandbox):
    """Pods share podman's bridge, whose address would follow its lowest port. A pod keeps the address its
    gateway had when it started: when the pod that address came from leaves, the gateway's address changes and
    every packet from the pod to this machine is lost until its ARP cache expires (connections stall for up to
    a minute). The sandbox pins the bridge's address; RunPod's pods share no such bridge."""
    runpod.api_key = podman_sandbox.api_key

    def create(name):
        created = runpod.create_pod(name, IMAGE, "NVIDIA A40", ports="22/tcp", volume_in_gb=0,
                                    env={"PUBLIC_KEY": podman_sandbox.public_key})
        return _running_pod(created["id"])

    # Each pod's veth has a random address: with six pods before it, the bridge's comes from one of them
    # (the kept pod's own sorts lowest with probability 1/7).
    others = [create("fac-other-%d" % number) for number in range(6)]
    kept = create("fac-kept")
    port = _ssh_port(kept)
    wait_for_ssh(PUBLIC_IP, port, podman_sandbox.ssh_key)
    address = podman.bridge_file("address")
    assert podman.bridge_file("addr_assign_type") == "3"  # NET_ADDR_SET: the kernel keeps it
    for other in others:
        runpod.terminate_pod(other["id"])
        assert podman.bridge_file("address") == address
        answer = ssh(PUBLIC_IP, port, podman_sandbox.ssh_key, "echo still here", timeout=20)
        assert answer.stdout.strip() == "still here", answer.stderr
    runpod.terminate_pod(kept["id"])
