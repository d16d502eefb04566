# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the funaudiochat.runpod collection; not a public API.

Pod helpers shared by the modules and the inventory plugin.

GPU name resolution, the plain-dict shape every module returns for a pod,
the SSH endpoint of a pod, and the SSH-banner readiness probe.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket
import time

from ansible_collections.funaudiochat.runpod.plugins.module_utils._client import InvalidValueError

# Friendly names users type -> RunPod GPU type ids, tried in the order listed.
GPU_ALIASES = {
    "A40": ["NVIDIA A40"],
    "4090": ["NVIDIA GeForce RTX 4090"],
    "RTX4090": ["NVIDIA GeForce RTX 4090"],
    "3090": ["NVIDIA GeForce RTX 3090"],
    "L40S": ["NVIDIA L40S"],
    "A6000": ["NVIDIA RTX A6000"],
    "A4000": ["NVIDIA RTX A4000"],
    "A100": ["NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-80GB"],
    "A100-PCIE": ["NVIDIA A100 80GB PCIe"],
    "A100-SXM": ["NVIDIA A100-SXM4-80GB"],
    "H100": ["NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H100 NVL"],
    "H100-SXM": ["NVIDIA H100 80GB HBM3"],
    "H100-PCIE": ["NVIDIA H100 PCIe"],
    "H100-NVL": ["NVIDIA H100 NVL"],
    "H200": ["NVIDIA H200"],
}

DEFAULT_CUDA_VERSIONS = ["12.8", "12.9", "13.0"]


def _key(name):
    return str(name).strip().upper().replace(" ", "").replace("_", "-")


def resolve_gpus(requested, catalogue, min_vram_gb=0, option="gpu"):
    """Turn ``A40``/``["4090", "NVIDIA L40S"]`` into RunPod GPU ids, in order.

    ``catalogue`` is the API's gpuTypes list (``id``, ``displayName``,
    ``memoryInGb``). Unknown names and GPUs below ``min_vram_gb`` raise
    InvalidValueError with the names that would work.
    """
    if isinstance(requested, str):
        requested = requested.split(",")
    requested = [item for item in requested or [] if str(item).strip()]  # -e gpu= names none
    by_id = dict((gpu["id"], gpu) for gpu in catalogue)
    by_display = dict((_key(gpu.get("displayName") or ""), gpu["id"]) for gpu in catalogue)
    resolved = []
    for name in requested or []:
        text = str(name).strip()
        if text in by_id:
            ids = [text]
        elif _key(text) in GPU_ALIASES:
            ids = [gpu_id for gpu_id in GPU_ALIASES[_key(text)] if gpu_id in by_id]
        elif _key(text) in by_display:
            ids = [by_display[_key(text)]]
        else:
            ids = []
        if not ids:
            raise InvalidValueError(
                "%s: unknown GPU %r; use one of %s, or a RunPod GPU id such as 'NVIDIA A40'"
                % (option, text[:60], ", ".join(sorted(GPU_ALIASES)))
            )
        for gpu_id in ids:
            memory = by_id[gpu_id].get("memoryInGb") or 0
            if memory < min_vram_gb:
                raise InvalidValueError(
                    "%s: %s has %d GB of GPU memory, below min_vram_gb=%d (Fun-Audio-Chat needs 24 GB); "
                    "choose A40, L40S, A6000, 4090, A100, H100 or H200" % (option, gpu_id, memory, min_vram_gb)
                )
            if gpu_id not in resolved:
                resolved.append(gpu_id)
    if not resolved:
        raise InvalidValueError("%s: name at least one GPU, for example A40" % option)
    return resolved


def public_ports(pod):
    """``{private_port: (ip, public_port)}`` for every publicly mapped port of a pod."""
    runtime = pod.get("runtime") or {}
    mapping = {}
    for port in runtime.get("ports") or []:
        if port.get("isIpPublic") and port.get("publicPort"):
            mapping[int(port["privatePort"])] = (port.get("ip"), int(port["publicPort"]))
    return mapping


def ssh_endpoint(pod, private_port=22):
    """(host, port) that reaches the pod's SSH server, or (None, None)."""
    return public_ports(pod).get(int(private_port), (None, None))


def fleet_of(name):
    """The fleet a pod's name puts it in, and its number there: ``fac-3`` is pod 3 of fleet ``fac``.

    deploy.yml names a fleet's pods ``<fleet>-1`` to ``<fleet>-N``; a name that
    does not end in ``-<number>`` belongs to no fleet: ``(None, None)``.
    """
    match = re.match(r"^(.+)-([1-9][0-9]*)$", name or "")
    if not match:
        return None, None
    return match.group(1), int(match.group(2))


def summarize(pod, ssh_private_port=22):
    """The plain dict every module returns for a pod (no env values: they may be secrets)."""
    machine = pod.get("machine") or {}
    runtime = pod.get("runtime") or {}
    host, port = ssh_endpoint(pod, ssh_private_port)
    env_keys = sorted(item.split("=", 1)[0] for item in pod.get("env") or [])
    return {
        "id": pod.get("id"),
        "name": pod.get("name"),
        "fleet": fleet_of(pod.get("name"))[0],
        "status": pod.get("desiredStatus"),
        "gpu": machine.get("gpuDisplayName"),
        "gpu_type_id": machine.get("gpuTypeId"),
        "gpu_count": pod.get("gpuCount"),
        "image": pod.get("imageName"),
        "start_command": pod.get("dockerArgs") or "",
        "cost_per_hr": pod.get("costPerHr"),
        "interruptible": pod.get("podType") == "INTERRUPTABLE",
        "container_disk_gb": pod.get("containerDiskInGb"),
        "volume_gb": pod.get("volumeInGb"),
        "volume_mount_path": pod.get("volumeMountPath"),
        "template_id": pod.get("templateId"),
        "network_volume_id": pod.get("networkVolumeId"),
        "data_center": machine.get("dataCenterId"),
        "requested_ports": [p for p in (pod.get("ports") or "").split(",") if p],
        "ports": dict((str(private), public) for private, (_ip, public) in public_ports(pod).items()),
        "public_ip": host,
        "ssh_host": host,
        "ssh_port": port,
        "uptime_seconds": runtime.get("uptimeInSeconds") if runtime else 0,
        "env_keys": env_keys,
    }


# The pod's facts every host of a pod carries, as <prefix><key> (the inventory plugin's hostvars_prefix, runpod_).
HOST_FACTS = ("id", "name", "fleet", "status", "gpu", "gpu_type_id", "gpu_count", "cost_per_hr", "image", "ports",
              "public_ip", "data_center", "interruptible", "volume_mount_path", "network_volume_id", "env_keys")


def host_entry(summary, ssh_common_args, ssh_user="root", prefix="runpod_"):
    """The host a pod is, built once for the inventory plugin and for the modules' ``host`` result.

    ``name`` is the pod's name (its id when it has none), then the pod's facts as ``<prefix>*`` variables and, when
    RunPod maps its SSH port, how to reach it (``ansible_host``, ``ansible_port``, ``ansible_user``,
    ``ansible_ssh_common_args``): what ``ansible.builtin.add_host`` takes as it is."""
    entry = {"name": summary.get("name") or summary.get("id")}
    entry.update((prefix + key, summary.get(key)) for key in HOST_FACTS)
    if summary.get("ssh_host") and summary.get("ssh_port"):
        entry.update(ansible_host=summary["ssh_host"], ansible_port=summary["ssh_port"], ansible_user=ssh_user,
                     ansible_ssh_common_args=ssh_common_args)
    return entry


def ssh_banner(host, port, timeout=5.0):
    """Return the SSH server's banner line, or None if the port does not answer like SSH."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.settimeout(timeout)
            data = b""
            while b"\n" not in data and len(data) < 512:
                chunk = sock.recv(256)
                if not chunk:
                    break
                data += chunk
    except (OSError, ValueError):
        return None
    line = data.split(b"\n", 1)[0].strip()
    return line.decode("ascii", "replace") if line.startswith(b"SSH-") else None


def wait_until(check, timeout, interval=2.0, sleep=time.sleep):
    """Call ``check()`` until it returns something truthy or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() + interval > deadline:
            return None
        sleep(interval)
