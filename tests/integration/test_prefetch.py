"""GPU time only for serving: a CPU pod fills a new network volume, then the GPU pod installs and downloads nothing.

What an operator paying per GPU-minute relies on after `deploy.yml -e network_volume=NEW`: a CPU pod is made in
the volume's data center, fills it (the Python environment, the app, the models, supervisor and the web page),
and is terminated; only then is the GPU pod made, and on the warm volume it installs 0 packages and downloads
0 bytes (P7), then answers the spoken question. The report says what the CPU and the GPU time cost. Another
pod's live writer lock on the volume makes the run fail in one line naming it; a failed prefetch terminates its
CPU pod and makes no GPU pod.
"""

import json
import os
import subprocess

from tests.helpers import REPO_ROOT, made_pods, run_playbook, task_results
from tests.sandbox import podman
from tests.sandbox.runpod_api.podman_backend import POD_HOST, container_name

POD = "fac-warm"
VOLUME = "fac-cache"
LOCK = "/workspace/funaudiochat/.writer.lock"

# On the GPU pod, the tasks that install or download: on a warm volume none of them may run.
INSTALLS = ("funaudiochat.runpod.torch : Install torch",
            "funaudiochat.runpod.app : Install the app's requirements",
            "funaudiochat.runpod.server : Install supervisor into the app's environment",
            "funaudiochat.runpod.front_door : Fetch Node.js from PyPI",
            "funaudiochat.runpod.front_door : Install the client's packages as its lock file says (npm ci)")


def pods_named(stack):
    import runpod  # pylint: disable=import-outside-toplevel
    os.environ.update(stack.env())
    runpod.api_key = os.environ["RUNPOD_API_KEY"]
    return sorted(pod["name"] for pod in runpod.get_pods())


def test_a_cpu_pod_fills_a_new_network_volume_and_the_gpu_pod_installs_nothing(sandbox_stack, tmp_path):
    env = sandbox_stack.env()
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    volume = dict(network_volume=VOLUME, network_volume_gb=50, network_volume_data_center="EU-RO-1")
    rc, out, err = run_playbook("playbooks/deploy.yml", env=env, extra_vars=sandbox_stack.deploy_vars(
        pod_name=POD, gpu="A40", **volume))
    assert rc == 0, err[-3000:]
    pod = made_pods(out)[POD]
    try:
        # The CPU pod filled the volume and is gone; the GPU pod is there (other tests' pods may be too).
        assert POD in pods_named(sandbox_stack) and VOLUME + "-prefetch" not in pods_named(sandbox_stack)
        written = json.loads(report.read_text())
        prefetch = written[VOLUME + "-prefetch"]
        assert prefetch["verdict"] == "PREFETCHED" and prefetch["prefetch"]["terminated"] is True
        assert prefetch["prefetch"]["instance_id"] == "cpu3c-4-8" and prefetch["prefetch"]["network_volume"] == VOLUME
        assert prefetch["cost_usd"] > 0 and prefetch["cost_per_day_usd"] is None
        assert set(prefetch["stages"]) >= {"pod", "torch", "app", "models"}
        assert written[POD]["verdict"] == "PASSED" and written[POD]["prefetch"] is None
        assert written[POD]["billed_seconds"] < written[POD]["run_seconds"], "the GPU pod is billed from its making"
        assert ("spent: %.3f USD of CPU time (prefetch), %.3f USD of GPU time"
                % (prefetch["cost_usd"], written[POD]["cost_usd"])) in out["report_text"]
        assert "fleet:" not in out["report_text"], "the CPU pod is no pod of a fleet"

        # P7: on the warm volume the GPU pod installed no package and downloaded no byte.
        results = dict(task_results(out, POD))
        for name in INSTALLS:
            ran = [result for task, result in results.items() if task.startswith(name)]
            assert ran and all(result.get("skipped") for result in ran), (name, ran)
        downloads = results["funaudiochat.runpod.models : Download the models (progress below while it runs)"]
        assert [item["bytes_needed"] for item in downloads["results"]] == [0, 0]
        assert all(not item["changed"] for item in downloads["results"])
        # It held the volume's writer lock for the install stages, and gave it back.
        assert on_pod(pod["id"], "test -e %s && echo held || echo free" % LOCK) == "free"

        # Another pod installing onto the volume (its lock held, its heartbeat counting): one line naming it.
        podman.run("cp", os.path.join(REPO_ROOT, "roles/models/files/volume_lock.py"),
                   container_name(pod["id"]) + ":/tmp/volume_lock.py")
        taken = on_pod(pod["id"], "python3 /tmp/volume_lock.py take --dir %s --owner otherpod123 --label fac-other" % LOCK)
        assert json.loads(taken)["held"] is True
        rc, out, err = run_playbook("playbooks/deploy.yml", env=env, extra_vars=sandbox_stack.deploy_vars(
            pod_name=POD, gpu="A40", models_volume_lock_wait=15, **volume))
        assert rc != 0
        failure = dict(task_results(out, POD))["funaudiochat.runpod.models : Fail when another pod kept the volume's writer lock"]
        assert failure["msg"].startswith("Pod fac-other (otherpod123) has been installing onto this volume since "), failure
        assert "still is after 15 s: run again once it is done" in failure["msg"] and "\n" not in failure["msg"]
        assert VOLUME + "-prefetch" not in pods_named(sandbox_stack), "no CPU pod for a volume that was there before"
    finally:
        subprocess.run(["podman", "exec", container_name(pod["id"]), "pkill", "-f", "volume_lock.py"], check=False,
                       capture_output=True, env=podman.environment(None))
        run_playbook("playbooks/terminate.yml", env=env, extra_vars={"pod_name": POD})


def test_a_failed_prefetch_terminates_its_cpu_pod_and_makes_no_gpu_pod(sandbox_stack, tmp_path):
    env = sandbox_stack.env()
    # The app's repository refuses the CPU pod's connection: the app stage fails.
    rc, out, err = run_playbook("playbooks/deploy.yml", env=env, extra_vars=sandbox_stack.deploy_vars(
        pod_name="fac-cold", gpu="A40", network_volume="fac-cold-cache", network_volume_gb=50,
        network_volume_data_center="EU-RO-1", app_repo_url="http://%s:9/Fun-Audio-Chat.git" % POD_HOST))
    assert rc != 0
    results = dict(task_results(out, "fac-cold-cache-prefetch"))
    assert results["Terminate the CPU pod"]["changed"] is True
    failure = results["Fail the run when the prefetch failed"]["msg"]
    assert failure.startswith("The prefetch onto network volume fac-cold-cache failed (Check out Fun-Audio-Chat "), failure
    assert failure.endswith("the CPU pod was terminated") and "\n" not in failure, failure
    assert "fac-cold" not in pods_named(sandbox_stack) and "fac-cold-cache-prefetch" not in pods_named(sandbox_stack)


def on_pod(pod_id, command):
    """A command in the pod's container, through podman."""
    return podman.run("exec", container_name(pod_id), "bash", "-c", command, check=False).strip()
