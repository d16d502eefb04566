# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The server_layout filter: how many Fun-Audio-Chat server processes a pod runs, and where each one goes.

Upstream's server holds one conversation per process (FunAudioLLM/Fun-Audio-Chat at 8ba984b6,
web_demo/server/server.py: one TTS output queue per process, drained by every session's receiver), and a
process needs ~22-24 GB of GPU memory that grows with the conversation. So a pod serves more people with
more processes, one per ``per_server_gb`` of a GPU's memory, each pinned to its GPU.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _as_number(value, what):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError("server_layout: %s must be a number, got %r" % (what, value))
    if number < 0:
        raise AnsibleFilterError("server_layout: %s must not be negative, got %r" % (what, value))
    return number


UNITS = {"GB": 1.0, "MiB": 1024.0}  # GB as RunPod's memoryInGb counts them; MiB as nvidia-smi prints memory.total


def servers_per_gpu(gpu_memory, per_server_gb=28, unit="GB"):
    """How many processes each GPU holds: its memory over ``per_server_gb``, rounded down."""
    per_server = _as_number(per_server_gb, "per_server_gb")
    if per_server <= 0:
        raise AnsibleFilterError("server_layout: per_server_gb must be above 0, got %r" % (per_server_gb,))
    if unit not in UNITS:
        raise AnsibleFilterError("server_layout: unit must be one of %s, got %r" % (", ".join(UNITS), unit))
    return [int(_as_number(memory, "a GPU's memory") / UNITS[unit] // per_server) for memory in gpu_memory or []]


def server_count(gpu_memory, per_server_gb=28, count=0, unit="GB"):
    """``count`` when above 0, else what the GPUs hold (at least one)."""
    wanted = int(_as_number(count, "count"))
    return wanted if wanted > 0 else max(1, sum(servers_per_gpu(gpu_memory, per_server_gb, unit)))


# What nginx in RunPod's images listens on (runpod/containers, container-template/proxy/nginx.conf): no server
# takes these.
IMAGE_PORTS = (3001, 7270, 7861, 8001, 8081, 9091)


def server_ports(base_port, total, reserved_ports=()):
    """The ``total`` servers' ports: from ``base_port`` up, past every port in ``reserved_ports`` (the front door's
    and its page's) and ``IMAGE_PORTS``, so that no count of servers runs into them."""
    port = int(_as_number(base_port, "base_port"))
    reserved = set(int(_as_number(item, "a reserved port")) for item in reserved_ports or []) | set(IMAGE_PORTS)
    ports = []
    while len(ports) < int(total):
        if port > 65535:
            raise AnsibleFilterError("server_layout: %d servers from port %s do not fit below 65536"
                                     % (int(total), base_port))
        if port not in reserved:
            ports.append(port)
        port += 1
    return ports


def server_layout(gpu_memory, per_server_gb=28, count=0, base_port=8002, tts_gpu="", unit="GB",
                  program="funaudiochat", log_dir="/workspace/funaudiochat/logs",
                  output_dir="/workspace/funaudiochat/output", reserved_ports=()):
    """One entry per server process: ``index`` (1..N), ``port`` (``server_ports``), ``suffix`` ("" for the first, then "-2", ...),
    ``cuda_visible_devices`` ("" = every GPU), ``tts_gpu``, and its names: ``program``, ``log``, ``output_dir``.

    A single process sees every GPU and puts its TTS worker on GPU 1 when there are two or more (0 otherwise),
    unless ``tts_gpu`` says. Several processes are pinned one GPU each (``CUDA_VISIBLE_DEVICES``), taken in
    turn among the GPUs with room left, then among all GPUs when ``count`` asks for more than the memory holds;
    each runs its TTS worker on its own GPU (0 of the one it sees).
    """
    gpus = list(gpu_memory or [])
    total = server_count(gpus, per_server_gb, count, unit)
    if int(_as_number(base_port, "base_port")) < 1:
        raise AnsibleFilterError("server_layout: base_port must be a TCP port, 1 or more, got %r" % (base_port,))
    ports = server_ports(base_port, total, reserved_ports)
    if total == 1:
        chosen = str(tts_gpu) if str(tts_gpu) != "" else ("1" if len(gpus) >= 2 else "0")
        return [_named(0, ports[0], "", int(chosen), program, log_dir, output_dir)]
    room = servers_per_gpu(gpus, per_server_gb, unit)
    order = []
    while len(order) < total and gpus:
        free = [gpu for gpu in range(len(gpus)) if room[gpu] > 0] or list(range(len(gpus)))
        for gpu in free:
            if len(order) < total:
                order.append(gpu)
                room[gpu] -= 1
    if not gpus:  # no GPU listed (check mode before the pod answers): every process sees whatever there is
        order = [None] * total
    return [_named(i, ports[i], "" if gpu is None else str(gpu), 0, program, log_dir, output_dir)
            for i, gpu in enumerate(order)]


def _named(i, port, cuda_visible_devices, tts_gpu, program, log_dir, output_dir):
    suffix = "" if i == 0 else "-%d" % (i + 1)
    return {"index": i + 1, "port": port, "suffix": suffix, "cuda_visible_devices": cuda_visible_devices,
            "tts_gpu": tts_gpu, "program": program + suffix, "log": "%s/server%s.log" % (log_dir.rstrip("/"), suffix),
            "output_dir": output_dir.rstrip("/") + suffix}


class FilterModule(object):
    def filters(self):
        return {"server_layout": server_layout, "server_count": server_count, "server_ports": server_ports}
