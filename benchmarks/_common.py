"""Helpers shared by the benchmarks: a sandbox API and timed ansible commands."""

import contextlib
import os
import subprocess
import sys
import tempfile
import time

from tests.helpers import run_module
from tests.sandbox.control import REPO_ROOT, SandboxAPI
from tests.sandbox.stack import SandboxStack

BIN = os.path.dirname(sys.executable)


@contextlib.contextmanager
def sandbox(*extra_args, extra_env=None):
    """A fresh sandbox API whose URL and key are exported to this process's environment."""
    with tempfile.TemporaryDirectory() as tmp, SandboxAPI(os.path.join(tmp, "state.json"),
                                                          extra_args=list(extra_args),
                                                          extra_env=extra_env) as api:
        saved = dict(os.environ)
        os.environ.update(api.env())
        try:
            yield api, tmp
        finally:
            os.environ.clear()
            os.environ.update(saved)


def ansible_env():
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, ".collections"),
               PATH=BIN + os.pathsep + env.get("PATH", ""))
    return env


def timed(cmd, runs=3, env=None):
    """Best wall time of ``runs`` runs of ``cmd`` (a list); fails loudly if the command fails."""
    best = None
    for _run in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env or ansible_env(), cwd=REPO_ROOT,
                              check=False)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError("%s failed:\n%s\n%s" % (" ".join(cmd), proc.stdout[-2000:], proc.stderr[-2000:]))
        best = elapsed if best is None else min(best, elapsed)
    return best


def on_a_sandbox_stack(measure, pod_name):
    """``measure(stack, env)`` on a fresh whole sandbox (API with container pods, hub, app repo), then the pod
    ``pod_name`` (or each of a list of them) terminated and the sandbox taken down, whatever happened."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = SandboxStack(state_dir=os.path.join(tmp, "sandbox"))
        stack.up()
        env = dict(ansible_env(), **stack.env())
        try:
            measure(stack, env, tmp)
        finally:
            for name in [pod_name] if isinstance(pod_name, str) else pod_name:
                run_module("pod", {"name": name, "state": "absent"}, env=env)
            stack.down()
