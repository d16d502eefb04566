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


def servers_per_gpu(gpu_memory_gb, per_server_gb=28):
    """How many processes each GPU holds: its memory over ``per_server_gb``, rounded down."""
    per_server = _as_number(per_server_gb, "per_server_gb")
    if per_server <= 0:
        raise AnsibleFilterError("server_layout: per_server_gb must be above 0, got %r" % (per_server_gb,))
    return [int(_as_number(memory, "a GPU's memory") // per_server) for memory in gpu_memory_gb or []]


def server_count(gpu_memory_gb, per_server_gb=28, count=0):
    """``count`` when above 0, else what the GPUs hold (at least one)."""
    wanted = int(_as_number(count, "count"))
    return wanted if wanted > 0 else max(1, sum(servers_per_gpu(gpu_memory_gb, per_server_gb)))


def server_layout(gpu_memory_gb, per_server_gb=28, count=0, base_port=8002, tts_gpu=""):
    """One entry per server process: ``index`` (1..N), ``port``, ``suffix`` ("" for the first, then "-2", ...),
    ``cuda_visible_devices`` ("" = every GPU) and ``tts_gpu``.

    A single process sees every GPU and puts its TTS worker on GPU 1 when there are two or more (0 otherwise),
    unless ``tts_gpu`` says. Several processes are pinned one GPU each (``CUDA_VISIBLE_DEVICES``), taken in
    turn among the GPUs with room left, then among all GPUs when ``count`` asks for more than the memory holds;
    each runs its TTS worker on its own GPU (0 of the one it sees).
    """
    gpus = list(gpu_memory_gb or [])
    total = server_count(gpus, per_server_gb, count)
    port = int(_as_number(base_port, "base_port"))
    if port < 1 or port + total - 1 > 65535:
        raise AnsibleFilterError("server_layout: ports %d..%d are not all valid TCP ports" % (port, port + total - 1))
    if total == 1:
        chosen = str(tts_gpu) if str(tts_gpu) != "" else ("1" if len(gpus) >= 2 else "0")
        return [{"index": 1, "port": port, "suffix": "", "cuda_visible_devices": "", "tts_gpu": int(chosen)}]
    room = servers_per_gpu(gpus, per_server_gb)
    order = []
    while len(order) < total and gpus:
        free = [gpu for gpu in range(len(gpus)) if room[gpu] > 0] or list(range(len(gpus)))
        for gpu in free:
            if len(order) < total:
                order.append(gpu)
                room[gpu] -= 1
    if not gpus:  # no GPU listed (check mode before the pod answers): every process sees whatever there is
        order = [None] * total
    return [{"index": i + 1, "port": port + i, "suffix": "" if i == 0 else "-%d" % (i + 1),
             "cuda_visible_devices": "" if gpu is None else str(gpu), "tts_gpu": 0}
            for i, gpu in enumerate(order)]


class FilterModule(object):
    def filters(self):
        return {"server_layout": server_layout, "server_count": server_count}
