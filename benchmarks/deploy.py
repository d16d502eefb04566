"""deploy.yml end to end on a sandbox container pod, and the spoken check's own cost.

Prints:

* second deploy / first deploy: `ansible-playbook playbooks/deploy.yml -e gpu=A40`
  run twice on the same pod (the second changes nothing; goal: a small
  fraction). The stand-in app and models are small, so the first run is far
  shorter than on RunPod and this ratio is an upper bound of the real one;
* second deploy / `ansible -m ping`: what re-converging an unchanged pod costs
  over the least Ansible can do with it (one module over SSH, through the
  inventory plugin);
* the spoken check's own overhead / the server's reply time: the wall time of
  `ansible localhost -m funaudiochat.runpod.s2s_check -a url=...` minus the
  server's reply time (question end to its last reply message,
  `last_reply_seconds`), over that reply time. The overhead includes Ansible's
  start, the websocket handshake, encoding the question, and `idle_seconds`
  (the protocol has no end-of-reply marker, so the check waits that long
  after the last message).
"""

import json
import os
import subprocess
import time

from tests.helpers import door_key
from tests.sandbox.control import REPO_ROOT

from benchmarks._common import BIN, on_a_sandbox_stack

RUNS = int(os.environ.get("BENCH_S2S_RUNS", "3"))
STAGES = ("pod", "system_deps", "torch", "app", "models", "server", "front_door", "verify")


def main():
    on_a_sandbox_stack(_measure, "fac-bench")


def run_timed(cmd, env):
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s\n%s" % (" ".join(cmd), proc.stdout[-3000:], proc.stderr[-2000:]))
    return elapsed, proc.stdout


def _report(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["fac-bench"]


def _measure(stack, env, tmp):
    report = os.path.join(tmp, "report.json")
    deploy = [os.path.join(BIN, "ansible-playbook"), "playbooks/deploy.yml",
              "-e", json.dumps(stack.deploy_vars(gpu="A40", pod_name="fac-bench", volume_gb=20))]
    env = dict(env, FUNAUDIOCHAT_S2S_REPORT=report)
    first, _out = run_timed(deploy, env)
    stages = _report(report)["stages"]
    second, _out = run_timed(deploy, env)
    entry = _report(report)
    print("deploy.yml: first %.1fs (%s), second %.1fs: second / first = %.3f"
          % (first, ", ".join("%s %.0fs" % (stage, stages[stage]) for stage in STAGES if stage in stages),
             second, second / first))
    ping = [os.path.join(BIN, "ansible"), "-i", "inventory/runpod.yml", "fac-bench", "-m", "ansible.builtin.ping"]
    pinged = min(run_timed(ping, env)[0] for _run_index in range(RUNS))
    print("deploy.yml second run %.1fs, ansible -m ping %.1fs: second / ping = %.1f (best of %d pings)"
          % (second, pinged, second / pinged, RUNS))

    check = [os.path.join(BIN, "ansible"), "localhost", "-m", "funaudiochat.runpod.s2s_check", "-a",
             "url=%s" % entry["url"]]
    ratios = []
    # The module's result as JSON after "=>"; the door's key from the environment, as docs/security.md shows.
    adhoc_env = dict(env, ANSIBLE_CALLBACK_RESULT_FORMAT="json", FUNAUDIOCHAT_DOOR_KEY=door_key(stack, "fac-bench"))
    for _run_index in range(RUNS):
        wall, out = run_timed(check, adhoc_env)
        result = json.loads(out[out.index("{"):])
        reply = result["last_reply_seconds"]
        ratios.append(((wall - reply) / reply, wall, reply, result["handshake_seconds"]))
    ratio, wall, reply, handshake = min(ratios)
    print("spoken check: %.2fs in all, the server's reply %.2fs (handshake %.2fs, idle wait 2.00s): "
          "overhead / reply = %.2f, without the idle wait %.2f (best of %d; the stand-in answers at once, "
          "a real 8B reply takes seconds)" % (wall, reply, handshake, ratio, ratio - 2.0 / reply, RUNS))
