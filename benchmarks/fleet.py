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
  is the least a pod's turn costs;
* a fleet pod stopped and resumed through the plain SDK, with no Ansible run: seconds from the resume until it
  answers the spoken question through the fleet's front door, asked for by name (``?server=<pod>.funaudiochat``).
  The front door finds it again by its name at RunPod's HTTPS proxy, which a resume keeps.
"""

import json
import os
import shutil
import subprocess
import time

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _pods

from tests.helpers import answered_at, door_key, sdk
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

    resumed = _resume_back_in_door(stack)
    rolled = reprovision(FLEET, server_environment={"BENCH_ROLL": "1"})
    unchanged = reprovision(SINGLE)
    print("reprovision.yml rolling over %d pods with their servers restarted: %.1fs, %.1fs per pod; an unchanged "
          "pod's turn %.1fs: per pod / unchanged = %.2f" % (COUNT, rolled, rolled / COUNT, unchanged,
                                                            rolled / COUNT / unchanged))
    print("fleet pod stopped and resumed with no Ansible run: back in the front door (answered by name) %.1fs after "
          "the resume" % resumed)


def _resume_back_in_door(stack):
    """Seconds from the plain SDK's resume of the fleet's last pod until the fleet's front door (on its first pod,
    over its TCP port) has it answer the spoken question by name."""
    runpod = sdk(stack)
    pods = {pod["name"]: pod for pod in runpod.get_pods()}
    last = "%s-%d" % (FLEET, COUNT)
    runpod.stop_pod(pods[last]["id"])
    runpod.resume_pod(pods[last]["id"], 1)
    door = _pods.public_ports(runpod.get_pod(pods[FLEET + "-1"]["id"]))[8010]
    url = "ws://%s:%s/api/chat?server=%s.funaudiochat" % (door + (last,))
    return answered_at(url, door_key(stack, FLEET), timeout=600, what="the resumed %s, through the front door" % last)
