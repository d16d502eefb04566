"""The roles on a sandbox pod, measured side by side in one run.

Prints:

* second converge / first converge of playbooks/provision.yml on a fresh pod
  (runpod/base's stand-in, so torch is installed; goal <= 0.15). The
  stand-in's requirements and models are small, so the first converge is far
  shorter than on RunPod (multi-GB pip, 16 GB of models) and this ratio is an
  upper bound of the real one;
* re-converge after stop/resume / first converge (the container disk is new:
  apt packages and supervisord come back, nothing on the volume is redone);
* model download throughput / curl's on the same files from the same hub, on
  the same pod (goal >= 0.8), with a hub whose big files are scaled up so the
  transfer, not the start-up, dominates;
* bytes fetched again after a download is cut mid-file (0 for finished files).
"""

import json
import os
import subprocess
import tempfile
import time
import urllib.request

from tests.helpers import run_module, ssh, wait_for_ssh
from tests.sandbox.control import REPO_ROOT, ModelHub
from tests.sandbox.stack import POD_HOST, SandboxStack

from benchmarks._common import ansible_env

SCALE = int(os.environ.get("BENCH_MODEL_SCALE", "40"))  # ~14 MB of shards x SCALE
# Without torch, so the first converge installs it (as on runpod/base); BENCH_IMAGE picks another.
IMAGE = os.environ.get("BENCH_IMAGE", "runpod/base:1.0.2-cuda1281-ubuntu2204")
MODEL = "FunAudioLLM/Fun-Audio-Chat-8B"
HOME = "/workspace/funaudiochat"


def _admin(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + "/_sandbox/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


class Bench:
    def __init__(self, stack, tmp):
        self.stack, self.tmp, self.env = stack, tmp, stack.env()
        self.key = self.env["SANDBOX_SSH_KEY"]
        self.inventory = os.path.join(tmp, "inventory.json")

    def pod(self):
        result = run_module("pod", {"name": "fac-bench", "gpu": "A40", "ports": ["22/tcp", "8002/tcp"],
                                    "image": IMAGE, "volume_gb": 40,
                                    "ssh_public_key_file": self.key + ".pub", "wait_timeout": 120}, env=self.env)
        assert not result.get("failed"), result.get("msg")
        self.id, self.host, self.port = result["id"], result["ssh_host"], result["ssh_port"]
        wait_for_ssh(self.host, self.port, self.key)
        with open(self.inventory, "w", encoding="utf-8") as handle:
            json.dump({"runpod": {"hosts": {"fac-bench": {
                "ansible_host": self.host, "ansible_port": self.port, "ansible_user": "root",
                "ansible_python_interpreter": "/usr/bin/python3",
                "runpod_public_ip": self.host, "runpod_ports": result["ports"]}}}}, handle)

    def converge(self, extra=None, tags=None):
        extra_vars = dict(self.stack.role_vars(), **(extra or {}))
        cmd = ["ansible-playbook", "playbooks/provision.yml", "-i", self.inventory, "-e", json.dumps(extra_vars)]
        if tags:
            cmd += ["--tags", tags]
        env = ansible_env()
        env.update(self.env)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit("provision failed:\n" + proc.stdout[-3000:])
        self.progress = [line for line in proc.stdout.splitlines() if " GB of " in line]
        return elapsed

    def sh(self, command):
        return ssh(self.host, self.port, self.key, command, timeout=600)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        stack = SandboxStack(state_dir=os.path.join(tmp, "sandbox"))
        stack.up()
        try:
            _measure(Bench(stack, tmp))
        finally:
            stack.down()


def _measure(bench):
    bench.pod()
    first = bench.converge()
    second = bench.converge()
    print("converge: first %.1fs, second %.1fs: second / first = %.3f (goal <= 0.15)"
          % (first, second, second / first))

    assert run_module("pod", {"id": bench.id, "state": "stopped"}, env=bench.env)["changed"]
    bench.pod()
    resumed = bench.converge()
    print("after stop/resume: re-converge %.1fs: re-converge / first = %.3f" % (resumed, resumed / first))

    with ModelHub(extra_args=["--host", "0.0.0.0", "--scale", str(SCALE)]) as hub:
        pod_hub = hub.url.replace("127.0.0.1", POD_HOST, 1)
        extra = {"models_hf_endpoint": pod_hub, "models_repos": [{"repo_id": MODEL}]}
        bench.sh("rm -rf %s/models/Fun-Audio-Chat-8B" % HOME)
        hub.clear_stats()
        with_download = bench.converge(extra, tags="models")
        sent = hub.stats()["bytes_sent"]
        without = bench.converge(extra, tags="models")
        role_seconds = with_download - without
        files = bench.sh("cd %s/models/Fun-Audio-Chat-8B && find . -type f -not -path './.cache/*' "
                         "-not -name '.funaudiochat*' -printf '%%P\\n'" % HOME).stdout.split()
        urls = " ".join("%s/%s/resolve/main/%s" % (pod_hub, MODEL, name) for name in files)
        timing = bench.sh("start=$(date +%%s.%%N); for u in %s; do curl -sf -o /dev/null \"$u\" || exit 1; done;"
                          " end=$(date +%%s.%%N); echo \"$end - $start\" | bc -l 2>/dev/null"
                          " || python3 -c \"print($end - $start)\"" % urls)
        curl_seconds = float(timing.stdout.strip().splitlines()[-1])
        print("model download: %.1f MB by the role in %.2fs (%.0f MB/s), by curl in %.2fs (%.0f MB/s): "
              "role / curl throughput = %.2f (goal >= 0.8)"
              % (sent / 1e6, role_seconds, sent / 1e6 / role_seconds, curl_seconds, sent / 1e6 / curl_seconds,
                 curl_seconds / role_seconds))

        shard = "model-00001-of-00002.safetensors"
        size = int(bench.sh("stat -c %%s %s/models/Fun-Audio-Chat-8B/%s" % (HOME, shard)).stdout)
        bench.sh("rm %s/models/Fun-Audio-Chat-8B/%s" % (HOME, shard))
        hub.clear_stats()
        hub.cut_next_download(size // 2)
        bench.converge(dict(extra, models_progress_interval=2), tags="models")
        print("progress lines the role printed while re-downloading (2 s slices):\n  "
              + "\n  ".join(bench.progress or ["(none: it finished within one slice)"]))
        served = hub.stats()
        others = [r for r in served["requests"] if r["method"] == "GET" and "/resolve/" in r["path"]
                  and shard not in r["path"]]
        print("after a cut at %d of %d bytes: %d bytes fetched again for the cut file, %d requests for finished files"
              % (size // 2, size, served["bytes_sent"] - size, len(others)))
