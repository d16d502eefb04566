"""Sandbox pods as containers: image cache, create-to-SSH and resume-to-SSH.

Side by side in one run:
* ``ensure_image()`` with the image cached (what every test session pays);
* create-to-SSH through RunPod's API (SDK ``create_pod`` on the podman
  backend, then the first successful ``ssh true``) vs. the same image started
  with a bare ``podman run`` and reached the same way: the ratio is what the
  sandbox API adds on top of podman itself;
* stop + resume until SSH answers on the new port.
Cold image build time is printed by ``python -m tests.sandbox image`` when it
builds (``podman rmi`` the sandbox images first to measure it).
"""

import os
import secrets
import socket
import statistics
import subprocess
import tempfile
import time

import runpod

from benchmarks._common import sandbox
from tests.sandbox import podman
from ansible_collections.funaudiochat.runpod.plugins.module_utils._images import DEFAULT_IMAGE
from tests.sandbox.pod_image import ensure_image

RUNS = 3


def _ssh_ok(port, key):
    return subprocess.run(
        ["ssh", "-i", key, "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
         "root@127.0.0.1", "true"], capture_output=True, check=False).returncode == 0


def _until_ssh(port, key, started, timeout=120):
    while not _ssh_ok(port, key):
        if time.perf_counter() - started > timeout:
            raise RuntimeError("no SSH on port %d after %ds" % (port, timeout))
        time.sleep(0.05)
    return time.perf_counter() - started


def _ssh_port(pod):
    return next(p["publicPort"] for p in pod["runtime"]["ports"] if p["privatePort"] == 22)


def _bare(image, pubkey, key):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    name = "bench-bare-" + secrets.token_hex(4)
    started = time.perf_counter()
    podman.run("run", "-d", "--name", name, "--label", podman.LABEL + "=bench-bare",
               "-p", "127.0.0.1:%d:22" % port, "-e", "PUBLIC_KEY=" + pubkey, image)
    try:
        return _until_ssh(port, key, started)
    finally:
        podman.run("rm", "-f", "-t", "0", name)


def main():
    started = time.perf_counter()
    image = ensure_image()
    first = time.perf_counter() - started
    started = time.perf_counter()
    ensure_image()
    cached = time.perf_counter() - started
    print("pod image %s: ensure_image() %.2fs now, %.2fs cached" % (image, first, cached))

    with tempfile.TemporaryDirectory() as tmp:
        key = os.path.join(tmp, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        with open(key + ".pub", encoding="utf-8") as handle:
            pubkey = handle.read().strip()
        bare = [_bare(image, pubkey, key) for _run in range(RUNS)]
        instance = "bench-" + secrets.token_hex(4)
        try:
            with sandbox("--backend", "podman", "--instance", instance) as (api, _tmp):
                runpod.api_key = api.api_key
                created, resumed = [], []
                for run in range(RUNS):
                    started = time.perf_counter()
                    pod = runpod.create_pod("bench-%d" % run, DEFAULT_IMAGE, "NVIDIA A40",
                                            ports="22/tcp", env={"PUBLIC_KEY": pubkey})
                    pod = runpod.get_pod(pod["id"])
                    created.append(_until_ssh(_ssh_port(pod), key, started))
                    runpod.stop_pod(pod["id"])
                    started = time.perf_counter()
                    runpod.resume_pod(pod["id"], 1)
                    resumed.append(_until_ssh(_ssh_port(runpod.get_pod(pod["id"])), key, started))
                    runpod.terminate_pod(pod["id"])
        finally:
            podman.remove_labelled(instance)
    median = statistics.median
    print("bare podman run -> SSH:        median %.2fs (runs: %s)" % (median(bare), _fmt(bare)))
    print("API create_pod -> SSH:         median %.2fs (runs: %s)" % (median(created), _fmt(created)))
    print("API resume_pod -> SSH:         median %.2fs (runs: %s)" % (median(resumed), _fmt(resumed)))
    print("ratio create-to-SSH / bare:    %.2f" % (median(created) / median(bare)))


def _fmt(values):
    return ", ".join("%.2f" % value for value in values)
