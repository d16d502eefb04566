"""The roles on a sandbox pod, measured side by side in one run.

Prints:

* second converge / first converge of playbooks/provision.yml on a fresh pod
  (runpod/base's stand-in, so torch is installed; goal <= 0.15). The
  stand-in's requirements and models are small, so the first converge is far
  shorter than on RunPod (multi-GB pip, 16 GB of models) and this ratio is an
  upper bound of the real one;
* re-converge after stop/resume / first converge (the container disk is new:
  apt packages and supervisord come back, nothing on the volume is redone).

The model download is measured on its own in ``benchmarks/download.py``.
"""

import json
import os
import subprocess
import tempfile
import time

from tests.helpers import run_module, ssh, wait_for_ssh
from tests.sandbox.control import REPO_ROOT
from tests.sandbox.stack import SandboxStack

from benchmarks._common import ansible_env

# Without torch, so the first converge installs it (as on runpod/base); BENCH_IMAGE picks another.
IMAGE = os.environ.get("BENCH_IMAGE", "runpod/base:1.0.2-cuda1281-ubuntu2204")


class Bench:
    def __init__(self, stack, tmp):
        self.stack, self.tmp, self.env = stack, tmp, stack.env()
        self.key = self.env["SANDBOX_SSH_KEY"]
        self.inventory = os.path.join(tmp, "inventory.json")

    def pod(self):
        result = run_module("pod", {"name": "fac-bench", "gpu": "A40", "ports": ["22/tcp", "8002/tcp"],
                                    "image": IMAGE, "volume_gb": 40,
                                    "ssh_public_key_file": self.key + ".pub", "wait_timeout": 120}, env=self.env)
        assert not result.get("failed"), result.get("msg")
        self.id, self.host, self.port = result["id"], result["ssh_host"], result["ssh_port"]
        wait_for_ssh(self.host, self.port, self.key)
        with open(self.inventory, "w", encoding="utf-8") as handle:
            json.dump({"runpod": {"hosts": {"fac-bench": {
                "ansible_host": self.host, "ansible_port": self.port, "ansible_user": "root",
                "ansible_ssh_common_args": result["ssh_common_args"],
                "ansible_python_interpreter": "/usr/bin/python3",
                "runpod_public_ip": self.host, "runpod_ports": result["ports"]}}}}, handle)

    def converge(self, extra=None, tags=None):
        extra_vars = dict(self.stack.role_vars(), **(extra or {}))
        cmd = ["ansible-playbook", "playbooks/provision.yml", "-i", self.inventory, "-e", json.dumps(extra_vars)]
        if tags:
            cmd += ["--tags", tags]
        env = ansible_env()
        env.update(self.env)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit("provision failed:\n" + proc.stdout[-3000:])
        self.progress = [line for line in proc.stdout.splitlines() if " GB of " in line]
        return elapsed

    def sh(self, command):
        return ssh(self.host, self.port, self.key, command, timeout=600)


def on_a_fresh_sandbox(measure):
    """``measure(bench)`` with a sandbox of its own, stopped (its pods removed) afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = SandboxStack(state_dir=os.path.join(tmp, "sandbox"))
        stack.up()
        try:
            measure(Bench(stack, tmp))
        finally:
            stack.down()


def main():
    on_a_fresh_sandbox(_measure)


def _measure(bench):
    bench.pod()
    first = bench.converge()
    second = bench.converge()
    print("converge: first %.1fs, second %.1fs: second / first = %.3f (goal <= 0.15)"
          % (first, second, second / first))

    assert run_module("pod", {"id": bench.id, "state": "stopped"}, env=bench.env)["changed"]
    bench.pod()
    resumed = bench.converge()
    print("after stop/resume: re-converge %.1fs: re-converge / first = %.3f" % (resumed, resumed / first))
