"""A fleet on sandbox container pods: deploy.yml -e pod_count=4 against one pod, and a rolling re-provision.

Prints:

* deploy of 4 pods / deploy of 1 pod, wall time (goal <= 1.5): both first deploys on fresh pods
  (`-e pod_count=4`, then `-e pod_count=1` on another fleet), each ending with its spoken checks and, for
  the fleet, 4 conversations at once through its one front door. The 4 pods are made and provisioned at
  once; here they are containers sharing this machine's cores, while on RunPod each is a machine of its own,
  so the ratio here is an upper bound of RunPod's;
* rolling re-provision time per pod: `reprovision.yml` over the 4 pods with a changed server environment
  (every pod's servers restart, one pod at a time: drained at the front door, re-provisioned, asked the
  spoken question, put back), its wall time over 4; and that over an unchanged re-provision of one pod, which
  is the least a pod's turn costs.
"""

import json
import os
import shutil
import subprocess
import time

from tests.sandbox.control import REPO_ROOT

from benchmarks._common import BIN, on_a_sandbox_stack

COUNT = 4
FLEET, SINGLE = "benchfleet", "benchone"


def main():
    on_a_sandbox_stack(_measure, ["%s-%d" % (FLEET, index) for index in range(1, COUNT + 1)] + [SINGLE + "-1"])


def _run(cmd, env):
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s\n%s" % (" ".join(cmd[:2]), proc.stdout[-3000:], proc.stderr[-2000:]))
    return elapsed


def _inventory(tmp, fleet):
    """The plugin's configuration for one fleet, with the collection's group_vars for pods."""
    path = os.path.join(tmp, "inventory-" + fleet)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "fleet.runpod.yml"), "w", encoding="utf-8") as handle:
        handle.write("plugin: funaudiochat.runpod.pods\nname_prefix: %s-\n" % fleet)
    shutil.copytree(os.path.join(REPO_ROOT, "inventory", "group_vars"), os.path.join(path, "group_vars"),
                    dirs_exist_ok=True)
    return os.path.join(path, "fleet.runpod.yml")


def _measure(stack, env, tmp):
    playbook = os.path.join(BIN, "ansible-playbook")

    def deploy(fleet, count):
        extra = stack.deploy_vars(gpu="A40", pod_name=fleet, pod_count=count, volume_gb=20)
        return _run([playbook, "playbooks/deploy.yml", "-e", json.dumps(extra)], env)

    many = deploy(FLEET, COUNT)
    one = deploy(SINGLE, 1)
    print("deploy.yml: %d pods %.1fs, 1 pod %.1fs: %d pods / 1 pod = %.2f (goal <= 1.5; here the pods share "
          "this machine's %d cores)" % (COUNT, many, one, COUNT, many / one, os.cpu_count() or 0))

    def reprovision(fleet, **extra_vars):
        extra = stack.deploy_vars(provision_hosts="runpod_fleet_" + fleet, **extra_vars)
        return _run([playbook, "-i", _inventory(tmp, fleet), "playbooks/reprovision.yml", "-e", json.dumps(extra)],
                    env)

    rolled = reprovision(FLEET, server_environment={"BENCH_ROLL": "1"})
    unchanged = reprovision(SINGLE)
    print("reprovision.yml rolling over %d pods with their servers restarted: %.1fs, %.1fs per pod; an unchanged "
          "pod's turn %.1fs: per pod / unchanged = %.2f" % (COUNT, rolled, rolled / COUNT, unchanged,
                                                            rolled / COUNT / unchanged))
