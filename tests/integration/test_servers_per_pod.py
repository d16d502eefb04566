"""Several server processes on one pod: deploy.yml on a sandbox H100 SXM (80 GB: two servers of 28 GB).

Upstream's server holds one conversation per process (the stand-in loses reply audio when two sessions share
one, tests/integration/test_app_standin.py), so a pod serves as many people at once as it runs servers. What
users rely on: deploy.yml publishes a port per server, starts each under supervisord with its own log and output
directory, checks and talks to every one, and the report says how many answered; two conversations at once,
one per server, both get whole replies; fewer servers asked for later removes the extra ones.
"""

import json
import threading

import numpy as np

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s

from tests.helpers import run_module, run_playbook, ssh, stats, task_results

HOME = "/workspace/funaudiochat"
NAME = "fac-servers"


def deploy(stack, tmp_path, **extra):
    env = stack.env()
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    extra_vars = stack.deploy_vars(pod_name=NAME, gpu="H100-SXM", volume_gb=20, **extra)
    rc, out, err = run_playbook("playbooks/deploy.yml", extra_vars=extra_vars, env=env)
    assert rc == 0, err[-3000:]
    return out, json.loads(report.read_text())[NAME]


def question():
    t = np.arange(int(1.5 * _s2s.SAMPLE_RATE)) / _s2s.SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)


def at_once(urls):
    """One spoken turn per URL, all started together; the results in URL order."""
    results = [None] * len(urls)
    start = threading.Barrier(len(urls))

    def talk(index):
        start.wait()
        results[index] = _s2s.converse(urls[index], question(), expect=["Paris"], idle_seconds=1.0)
    threads = [threading.Thread(target=talk, args=(index,)) for index in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def test_a_pod_runs_one_server_per_28_gb_and_each_holds_a_conversation(sandbox_stack, tmp_path):
    stack = sandbox_stack
    try:
        out, written = deploy(stack, tmp_path)
        pod = dict(task_results(out))["Create or start the pod, failing over across GPUs and cloud types"]
        assert sorted(pod["ports"]) == ["22", "8002", "8003"], pod["ports"]  # one public port per server

        def on_pod(command):
            proc = ssh(pod["ssh_host"], pod["ssh_port"], stack.ssh_key, command)
            assert proc.returncode == 0, proc.stderr
            return proc.stdout

        servers = json.loads(on_pod("cat %s/servers.json" % HOME))
        assert [(s["program"], s["port"], s["cuda_visible_devices"]) for s in servers] == [
            ("funaudiochat", 8002, "0"), ("funaudiochat-2", 8003, "0")]
        status = on_pod("supervisorctl status")
        assert status.count("RUNNING") == 3, status  # two servers and the output pruner
        for server in servers:
            environ = on_pod("tr '\\0' '\\n' < /proc/$(supervisorctl pid %s)/environ" % server["program"])
            assert "CUDA_VISIBLE_DEVICES=0" in environ.split("\n")
            assert "TTS model loaded successfully" in on_pod("cat %s" % server["log"])
            assert on_pod("test -d %s && echo yes" % server["output_dir"]).strip() == "yes"

        # Both servers were talked to, and the report says so.
        results = dict(task_results(out, NAME))
        others = results["Ask the pod's other servers the same question"]["results"]
        urls = [written["url"]] + [item["url"] for item in others]
        assert len(set(urls)) == 2 and all(item["passed"] for item in others)
        assert written["passed"] is True and [s["passed"] for s in written["servers"]] == [True, True]
        assert [s["url"] for s in written["servers"]] == urls
        assert "  servers: 2 of 2 answered, 2 conversations at once" in out["report_text"]

        # Two conversations at once, one per server: both whole. One alone first, for the length of a whole reply.
        alone = _s2s.converse(urls[0], question(), expect=["Paris"], idle_seconds=1.0)
        assert alone["failures"] == []
        together = at_once(urls)
        assert [r["failures"] for r in together] == [[], []]
        assert [r["reply_audio_seconds"] for r in together] == [alone["reply_audio_seconds"]] * 2

        # Fewer servers asked for: the extra one goes, the first keeps serving.
        out, written = deploy(stack, tmp_path, servers_per_pod=1)
        assert stats(out, NAME)["changed"] > 0
        assert [s["program"] for s in json.loads(on_pod("cat %s/servers.json" % HOME))] == ["funaudiochat"]
        assert "funaudiochat-2" not in on_pod("supervisorctl status")
        assert written["passed"] is True and len(written["servers"]) == 1
    finally:
        run_module("pod", {"name": NAME, "state": "absent"}, env=stack.env())
