"""The model download over links of finite speed, measured side by side in one run.

Prints:

* role throughput / curl throughput (goal >= 0.8): the models role brings
  Fun-Audio-Chat-8B onto a sandbox pod through a throttled link (BENCH_LINK_RATE
  per connection, BENCH_LINK_TOTAL in all), with shards scaled (BENCH_MODEL_SCALE)
  so the biggest spans many progress intervals; then curl fetches the same
  files on the same pod over the same link with as many parallel connections
  (``curl --parallel --parallel-max N``). The role's time is its converge minus
  a converge with nothing to fetch, so Ansible's own start is not counted twice;
* bytes fetched again after a cut mid-file (goal <= one 1 MiB chunk), and
  requests for files that were already finished (goal 0);
* ``download_real`` (asked for by name: it needs ~25 GB of free disk and
  ~10 minutes): deploy.yml with the hub's ``real`` profile (~19 GB, the real
  repositories' layout) over a link of BENCH_REAL_RATE in all, stage by stage,
  next to the physical floor: the models' bytes over the link's rate.
"""

import json
import os
import tempfile
import time

from tests.helpers import run_module
from tests.sandbox.control import ModelHub
from tests.sandbox.link import parse_rate
from tests.sandbox.model_hub.repos import stand_in_repos
from tests.sandbox.stack import POD_HOST, SandboxStack

from benchmarks._common import BIN, ansible_env
from benchmarks.deploy import STAGES, run_timed
from benchmarks.roles import on_a_fresh_sandbox

SCALE = int(os.environ.get("BENCH_MODEL_SCALE", "40"))  # ~14 MB of shards x SCALE: 240 MB for the biggest
LINK_RATE = os.environ.get("BENCH_LINK_RATE", "20MB")
LINK_TOTAL = os.environ.get("BENCH_LINK_TOTAL", "40MB")
INTERVAL = 2  # seconds between progress lines in the throughput run
REAL_RATE = os.environ.get("BENCH_REAL_RATE", "100MB")
MODEL = "FunAudioLLM/Fun-Audio-Chat-8B"
HOME = "/workspace/funaudiochat"
CHUNK = 1024 * 1024  # the downloader's read size: what a cut may cost at most
CONNECTIONS = 4  # the models role's default (models_connections)


def main():
    on_a_fresh_sandbox(_throughput_and_cut)


def _throughput_and_cut(bench):
    bench.pod()
    bench.converge()  # everything but the download under test is in place after this
    hub_args = ["--host", "0.0.0.0", "--scale", str(SCALE), "--link-rate", LINK_RATE, "--link-total", LINK_TOTAL]
    with ModelHub(extra_args=hub_args) as hub:
        pod_hub = hub.url.replace("127.0.0.1", POD_HOST, 1)
        extra = {"models_hf_endpoint": pod_hub, "models_repos": [{"repo_id": MODEL}],
                 "models_progress_interval": INTERVAL}
        files = stand_in_repos(SCALE)[MODEL].files
        total = sum(f.size for f in files.values())
        biggest = max(f.size for f in files.values())
        bench.sh("rm -rf %s/models/%s" % (HOME, MODEL.split("/")[1]))
        hub.clear_stats()
        with_download = bench.converge(extra, tags="models")
        sent = hub.stats()["bytes_sent"]
        lines = len(bench.progress)
        without = bench.converge(extra, tags="models")
        role_seconds = with_download - without
        outputs = " ".join("-o /dev/null %s/%s/resolve/main/%s" % (pod_hub, MODEL, name) for name in sorted(files))
        timing = bench.sh("python3 -c 'import time; print(time.time())'; curl -sf --parallel --parallel-max %d %s"
                          " && python3 -c 'import time; print(time.time())'" % (CONNECTIONS, outputs))
        start, end = (float(value) for value in timing.stdout.split()[-2:])
        curl_seconds = end - start
        print("link: %s per connection, %s in all; %.0f MB in %d files, the biggest %.0f MB (%.1f progress "
              "intervals of %ds at the per-connection rate); %d progress lines"
              % (LINK_RATE, LINK_TOTAL, total / 1e6, len(files), biggest / 1e6,
                 biggest / parse_rate(LINK_RATE) / INTERVAL, INTERVAL, lines))
        print("model download: the hub served %.2fx the repository; role %.1fs (%.1f MB/s), curl %.1fs (%.1f MB/s) "
              "with %d connections each: role / curl throughput = %.2f (goal >= 0.8)"
              % (sent / total, role_seconds, total / 1e6 / role_seconds, curl_seconds, total / 1e6 / curl_seconds,
                 CONNECTIONS, curl_seconds / role_seconds))

        shard = "model-00001-of-00002.safetensors"
        size = files[shard].size
        bench.sh("rm %s/models/%s/%s" % (HOME, MODEL.split("/")[1], shard))
        hub.clear_stats()
        hub.cut_next_download(size // 2)
        bench.converge(extra, tags="models")
        served = hub.stats()
        others = [r for r in served["requests"] if r["method"] == "GET" and "/resolve/" in r["path"]
                  and shard not in r["path"]]
        refetched = served["bytes_sent"] - size
        print("after a cut at byte %d of %d: %d bytes fetched again (%.2f chunks of 1 MiB; goal <= 1), "
              "%d requests for finished files (goal 0)" % (size // 2, size, refetched, refetched / CHUNK, len(others)))


def real_main():
    """``python -m benchmarks download_real``: deploy.yml with the hub's real profile over a finite link."""
    rate = parse_rate(REAL_RATE)
    with tempfile.TemporaryDirectory() as tmp:
        stack = SandboxStack(state_dir=os.path.join(tmp, "sandbox"))
        started = time.perf_counter()
        stack.up(link={"total": REAL_RATE}, hub_profile="real")
        print("real profile: the hub was ready in %.0fs (it hashes ~19 GB once; later starts read the cache)"
              % (time.perf_counter() - started))
        env = dict(ansible_env(), **stack.env())
        report = os.path.join(tmp, "report.json")
        env["FUNAUDIOCHAT_S2S_REPORT"] = report
        try:
            models = sum(f.size for repo in stand_in_repos(1, profile="real").values() for f in repo.files.values())
            deploy = [os.path.join(BIN, "ansible-playbook"), "playbooks/deploy.yml",
                      "-e", json.dumps(stack.deploy_vars(gpu="A40", pod_name="fac-bench", volume_gb=60))]
            seconds, _out = run_timed(deploy, env)
            with open(report, encoding="utf-8") as handle:
                stages = json.load(handle)["fac-bench"]["stages"]
            floor = models / rate
            print("real-size deploy over %s: %.0fs in all (%s)"
                  % (REAL_RATE, seconds, ", ".join("%s %.0fs" % (s, stages[s]) for s in STAGES if s in stages)))
            print("models: %.2f GB, floor %.0fs at %s: models stage / floor = %.2f, whole deploy / floor = %.2f"
                  % (models / 1e9, floor, REAL_RATE, stages.get("models", 0) / floor, seconds / floor))
        finally:
            run_module("pod", {"name": "fac-bench", "state": "absent"}, env=env)
            stack.down()
