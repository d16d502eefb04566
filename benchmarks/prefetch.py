"""GPU time only for serving: what a fresh deploy bills at the GPU's rate, with and without a CPU prefetch.

Prints:

* P8, the idle-GPU tax: the GPU pod's billed seconds of a fresh `deploy.yml` (the report's `billed_seconds`,
  from the pod's making to the end of the run) / (model load + spoken check: the server and verify stages),
  without a network volume (the GPU pod installs and downloads everything) and with a new one filled first by
  a CPU pod (`prefetch=auto`); goal <= 1.3 with the prefetch. What the CPU pod cost is printed beside it.
* P7: on that warm volume, a second GPU pod's install tasks that ran (torch, the app's requirements,
  supervisor, Node.js, npm ci) and the bytes its model download still needed; goal 0 and 0.

The stand-in app installs in seconds and its models are megabytes, where the real ones take minutes of pip
and ~17 GB: the sandbox's "without" is far shorter than RunPod's, so the gap shown here is a lower bound. The
stand-in also loads its "model" in about a second, where the 8B model takes a minute or more (16 GB read from
the volume, then onto the GPU); BENCH_MODEL_LOAD_SECONDS=N makes each of the stand-in's two models (the LLM,
then the TTS) take N seconds to load, in both deploys (its FAC_STANDIN_LOAD_SECONDS).
"""

import json
import os
import subprocess

from tests.helpers import run_playbook
from tests.sandbox.control import REPO_ROOT

from benchmarks._common import BIN, on_a_sandbox_stack

INSTALLS = ("funaudiochat.runpod.torch : Install torch", "funaudiochat.runpod.app : Install the app's requirements",
            "funaudiochat.runpod.server : Install supervisor", "funaudiochat.runpod.front_door : Fetch Node.js",
            "funaudiochat.runpod.front_door : Install the client's packages")
PODS = ("fac-p8-plain", "fac-p8-warm", "fac-p8-second")
LOAD_SECONDS = os.environ.get("BENCH_MODEL_LOAD_SECONDS", "")


def main():
    on_a_sandbox_stack(_measure, list(PODS))


def _deploy(stack, env, tmp, name, **extra):
    report = os.path.join(tmp, name + ".json")
    if LOAD_SECONDS:
        extra["server_environment"] = {"FAC_STANDIN_LOAD_SECONDS": LOAD_SECONDS}
    rc, out, err = run_playbook("playbooks/deploy.yml", extra_vars=stack.deploy_vars(gpu="A40", pod_name=name, **extra),
                                env=dict(env, FUNAUDIOCHAT_S2S_REPORT=report))
    if rc != 0:
        raise RuntimeError("deploy of %s failed:\n%s" % (name, err[-3000:]))
    with open(report, encoding="utf-8") as handle:
        return json.load(handle), out


def _terminate(env, name):
    subprocess.run([os.path.join(BIN, "ansible-playbook"), "playbooks/terminate.yml", "-e", "pod_name=" + name],
                   capture_output=True, text=True, cwd=REPO_ROOT, env=env, check=True)


def _tax(entry):
    serving = entry["stages"].get("server", 0) + entry["stages"].get("verify", 0)
    return entry["billed_seconds"] / serving, serving


def _measure(stack, env, tmp):
    plain, _out = _deploy(stack, env, tmp, "fac-p8-plain", volume_gb=20)
    _terminate(env, "fac-p8-plain")
    volume = dict(network_volume="fac-p8-cache", network_volume_gb=50, network_volume_data_center="EU-RO-1")
    warm, _out = _deploy(stack, env, tmp, "fac-p8-warm", **volume)
    _terminate(env, "fac-p8-warm")
    second, out = _deploy(stack, env, tmp, "fac-p8-second", **volume)

    if LOAD_SECONDS:
        print("the stand-in takes %s s to load each of its two models (BENCH_MODEL_LOAD_SECONDS)" % LOAD_SECONDS)
    without, serving = _tax(plain["fac-p8-plain"])
    print("P8 without prefetch: GPU billed %.1f s / model load + spoken check %.1f s = %.2f"
          % (plain["fac-p8-plain"]["billed_seconds"], serving, without))
    with_prefetch, serving = _tax(warm["fac-p8-warm"])
    cpu = warm["fac-p8-cache-prefetch"]
    print("P8 with prefetch:    GPU billed %.1f s / model load + spoken check %.1f s = %.2f (goal <= 1.3); "
          "the CPU pod ran %.1f s for %.4f USD, the GPU pod cost %.4f USD"
          % (warm["fac-p8-warm"]["billed_seconds"], serving, with_prefetch, cpu["billed_seconds"], cpu["cost_usd"],
             warm["fac-p8-warm"]["cost_usd"]))
    ran = []
    needed = 0
    for play in out["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("fac-p8-second")
            if result is None:
                continue
            name = task["task"]["name"]
            if name.startswith(INSTALLS) and not result.get("skipped"):
                ran.append(name)
            if name.startswith("funaudiochat.runpod.models : Download the models (progress"):
                needed += sum(item.get("bytes_needed", 0) for item in result.get("results", []))
    print("P7 second GPU pod on the warm volume: %d install tasks ran, %d bytes downloaded (goal 0 and 0)%s"
          % (len(ran), needed, (": " + ", ".join(ran)) if ran else ""))
