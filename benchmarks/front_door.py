"""The front door's cost, on a sandbox pod with two servers (H100 SXM: 80 GB, two servers of 28 GB).

Prints:

* first reply audio through the locked front door (with its key) / the same door unlocked: the same spoken
  question, asked in turn over each path (medians of ``BENCH_S2S_RUNS`` turns each). The unlocked door is a
  second HAProxy on the same pod, on a port of its own (8011), from the same configuration with the key's and
  the per-client limits' lines taken out. Goal <= 1.05. The stand-in answers within milliseconds, so a fixed
  cost weighs far more here than next to a real 8B reply of seconds: this ratio is an upper bound of the real
  one; the added milliseconds are printed too;
* two conversations at once through the front door / one alone: the slower one's first reply audio over the
  single one's (each gets a server of its own, so it should stay near 1).
"""

import json
import os
import statistics

import numpy as np

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s

from tests.helpers import door_key, made_pods, run_playbook, ssh, task_results

from benchmarks._common import on_a_sandbox_stack

RUNS = int(os.environ.get("BENCH_S2S_RUNS", "7"))
NAME = "fac-bench-door"


def question():
    t = np.arange(int(1.5 * _s2s.SAMPLE_RATE)) / _s2s.SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)


def main():
    on_a_sandbox_stack(_measure, NAME)


# The lock's lines of the front door's configuration (roles/front_door/templates/haproxy.cfg.j2): the key's checks,
# the login, the per-client tables and limits. What is left routes exactly as the locked door does.
LOCK_LINES = ("acl key_", "acl login", "sc-inc-gpc0", "status 401", "status 303", "status 429", "track-sc", "stick-table")
UNLOCKED = (
    "cd /workspace/funaudiochat/front-door && grep -v -e '%s' haproxy.cfg "
    "| sed -e 's/^    bind :.*$/    bind :8011/' -e 's#stats socket [^ ]*#stats socket /run/unlocked.sock#' > unlocked.cfg "
    "&& haproxy -c -q -f unlocked.cfg && haproxy -D -f unlocked.cfg -p /run/unlocked.pid"
    % "' -e '".join(LOCK_LINES))


def _first_audio(url, key=None):
    result = _s2s.converse(url, question(), expect=["Paris"], idle_seconds=1.0, door_key=key)
    if result["failures"]:
        raise RuntimeError("%s: %s" % (url, result["failures"]))
    return result["first_audio_seconds"]


def _measure(stack, env, _tmp):
    # SSH's and the front door's ports as deploy.yml publishes them, and one for the unlocked door.
    extra_vars = stack.deploy_vars(pod_name=NAME, gpu="H100-SXM", volume_gb=20,
                                   ports=["22/tcp", "8000/http", "8010/tcp", "8011/tcp"])
    rc, out, err = run_playbook("playbooks/deploy.yml", extra_vars=extra_vars, env=env)
    if rc != 0:
        raise RuntimeError("deploy.yml failed: %s" % err[-2000:])
    facts = {}
    for _name, result in task_results(out, NAME):
        facts.update(result.get("ansible_facts") or {})
    pod, key = made_pods(out)[NAME], door_key(stack, NAME)
    door = facts["verify_front_door_url"]
    started = ssh(pod["ssh_host"], pod["ssh_port"], stack.ssh_key, UNLOCKED)
    if started.returncode != 0:
        raise RuntimeError("the unlocked door did not start: %s" % started.stderr[-2000:])
    unlocked = "ws://%s:%s/api/chat" % (pod["ssh_host"], pod["ports"]["8011"])
    locked_turns, unlocked_turns = [], []
    for _run in range(RUNS):
        locked_turns.append(_first_audio(door, key))
        unlocked_turns.append(_first_audio(unlocked))
    through_median, unlocked_median = statistics.median(locked_turns), statistics.median(unlocked_turns)
    print("first reply audio: through the locked front door %.1f ms, the same door unlocked %.1f ms (medians of %d): "
          "locked / unlocked = %.3f, %+.1f ms"
          % (through_median * 1000, unlocked_median * 1000, RUNS, through_median / unlocked_median,
             (through_median - unlocked_median) * 1000))
    pairs = []
    for _run in range(RUNS):
        both = _s2s.converse_many(door, question(), 2, expect=["Paris"], idle_seconds=1.0, door_key=key)
        if any(result["failures"] for result in both):
            raise RuntimeError(json.dumps([result["failures"] for result in both]))
        pairs.append(max(result["first_audio_seconds"] for result in both))
    pair_median = statistics.median(pairs)
    print("two conversations at once through the front door: the slower first reply audio %.1f ms, one alone "
          "%.1f ms: two / one = %.2f (medians of %d)"
          % (pair_median * 1000, through_median * 1000, pair_median / through_median, RUNS))
