"""Resume to the first spoken answer: a pod that comes back by itself against resume + reprovision.yml.

Two sandbox container pods are deployed: one with deploy.yml's default start command (the boot script on
the volume, then RunPod's /start.sh) and one with ``-e start_command=''`` (the image's own command: the
path before self-healing). Each is stopped and resumed (the pod module, as resume.yml does), then timed until the shipped
spoken question is answered through its front door's new public port, with the door's key (the servers are on
loopback: the boot script must put HAProxy back, from apt, before anyone is answered):

* self-healing: nothing is run; the question is asked every half second until it is answered;
* today's path: ``reprovision.yml`` through the pods inventory plugin (system packages, supervisord and the
  servers put back, then its own spoken check), started as soon as RunPod lists the pod's ports again.

Prints both times and self-healing / reprovision (lower is better), and the SSH logins the self-healing
pod saw (0). The stand-in server loads in about a second; a real 8B model takes minutes either way, so on
RunPod the ratio is nearer 1 and the point is that no one has to run anything.
"""

import json
import os
import shutil
import subprocess
import time

from tests.helpers import answered_by_itself, door_key, run_module
from tests.sandbox import podman
from tests.sandbox.control import REPO_ROOT
from tests.sandbox.runpod_api.podman_backend import container_name

from benchmarks._common import BIN, on_a_sandbox_stack

HEALING, PLAIN = "benchheal", "benchplain"


def main():
    on_a_sandbox_stack(_measure, [HEALING, PLAIN])


def _run(cmd, env):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s\n%s" % (" ".join(cmd[:2]), proc.stdout[-3000:], proc.stderr[-2000:]))
    return proc.stdout


def _measure(stack, env, tmp):
    import runpod  # pylint: disable=import-outside-toplevel
    os.environ.update(env)
    runpod.api_key = env["RUNPOD_API_KEY"]
    playbook = os.path.join(BIN, "ansible-playbook")
    ids = {}
    for name, extra in ((HEALING, {}), (PLAIN, {"start_command": ""})):
        variables = stack.deploy_vars(gpu="A40", pod_name=name, volume_gb=20, idle_stop_minutes=0, **extra)
        _run([playbook, "playbooks/deploy.yml", "-e", json.dumps(variables)], env)
        ids[name] = [pod for pod in runpod.get_pods() if pod["name"] == name][0]["id"]

    def resume(name):
        # Through the pod module, as resume.yml does: it forgets the pod's old host key for reprovision.yml.
        for state in ("stopped", "running"):
            result = run_module("pod", {"id": ids[name], "state": state, "wait": False}, env=env)
            if result.get("failed"):
                raise RuntimeError(result.get("msg"))
        return time.perf_counter()

    resume(HEALING)
    healing = answered_by_itself(runpod, ids[HEALING], timeout=600, key=door_key(stack, HEALING))
    logins = podman.run("exec", container_name(ids[HEALING]), "bash", "-c",
                        "grep -c 'Accepted publickey' /var/log/sshd.log || true", check=False).strip()

    inventory = os.path.join(tmp, "inventory")
    os.makedirs(inventory, exist_ok=True)
    with open(os.path.join(inventory, "plain.runpod.yml"), "w", encoding="utf-8") as handle:
        handle.write("plugin: funaudiochat.runpod.pods\nname_prefix: %s\n" % PLAIN)
    shutil.copytree(os.path.join(REPO_ROOT, "inventory", "group_vars"), os.path.join(inventory, "group_vars"),
                    dirs_exist_ok=True)
    started = resume(PLAIN)
    while not (runpod.get_pod(ids[PLAIN]).get("runtime") or {}).get("ports"):  # the inventory lists it once it runs
        time.sleep(0.5)
    _run([playbook, "-i", os.path.join(inventory, "plain.runpod.yml"), "playbooks/reprovision.yml",
          "-e", json.dumps(stack.deploy_vars(idle_stop_minutes=0))], env)
    plain = time.perf_counter() - started
    print("resume -> first spoken answer: by itself %.1fs (SSH logins: %s), with reprovision.yml %.1fs: "
          "self-healing / reprovision = %.2f" % (healing, logins, plain, healing / plain))
