"""The front door's cost, on a sandbox pod with two servers (H100 SXM: 80 GB, two servers of 28 GB).

Prints:

* first reply audio through the front door / straight to a server: the same spoken question, asked in turn
  over each path (medians of ``BENCH_S2S_RUNS`` turns each). The front door is HAProxy on the pod: one more
  local hop before the websocket upgrade, none after it. Goal <= 1.05. The stand-in answers within
  milliseconds, so a fixed cost of the hop weighs far more here than next to a real 8B reply of seconds: this
  ratio is an upper bound of the real one; the added milliseconds are printed too;
* two conversations at once through the front door / one alone: the slower one's first reply audio over the
  single one's (each gets a server of its own, so it should stay near 1).
"""

import json
import os
import statistics

import numpy as np

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s

from tests.helpers import run_playbook, task_results

from benchmarks._common import on_a_sandbox_stack

RUNS = int(os.environ.get("BENCH_S2S_RUNS", "7"))
NAME = "fac-bench-door"


def question():
    t = np.arange(int(1.5 * _s2s.SAMPLE_RATE)) / _s2s.SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)


def main():
    on_a_sandbox_stack(_measure, NAME)


def _first_audio(url):
    result = _s2s.converse(url, question(), expect=["Paris"], idle_seconds=1.0)
    if result["failures"]:
        raise RuntimeError("%s: %s" % (url, result["failures"]))
    return result["first_audio_seconds"]


def _measure(stack, env, _tmp):
    extra_vars = stack.deploy_vars(pod_name=NAME, gpu="H100-SXM", volume_gb=20)
    rc, out, err = run_playbook("playbooks/deploy.yml", extra_vars=extra_vars, env=env)
    if rc != 0:
        raise RuntimeError("deploy.yml failed: %s" % err[-2000:])
    facts = {}
    for _name, result in task_results(out, NAME):
        facts.update(result.get("ansible_facts") or {})
    direct, door = facts["verify_ws_urls"][0], facts["verify_front_door_url"]
    through, straight = [], []
    for _run in range(RUNS):
        through.append(_first_audio(door))
        straight.append(_first_audio(direct))
    through_median, straight_median = statistics.median(through), statistics.median(straight)
    print("first reply audio: through the front door %.1f ms, straight to a server %.1f ms (medians of %d): "
          "front door / direct = %.3f, %+.1f ms"
          % (through_median * 1000, straight_median * 1000, RUNS, through_median / straight_median,
             (through_median - straight_median) * 1000))
    pairs = []
    for _run in range(RUNS):
        both = _s2s.converse_many(door, question(), 2, expect=["Paris"], idle_seconds=1.0)
        if any(result["failures"] for result in both):
            raise RuntimeError(json.dumps([result["failures"] for result in both]))
        pairs.append(max(result["first_audio_seconds"] for result in both))
    pair_median = statistics.median(pairs)
    print("two conversations at once through the front door: the slower first reply audio %.1f ms, one alone "
          "%.1f ms: two / one = %.2f (medians of %d)"
          % (pair_median * 1000, through_median * 1000, pair_median / through_median, RUNS))
