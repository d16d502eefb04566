"""Start, stop and steer a sandbox RunPod API from Python (tests, benchmarks, demo)."""

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class SandboxAPI:
    """A running ``python -m tests.sandbox.runpod_api`` process."""

    def __init__(self, state_file, api_key=None, extra_args=(), extra_env=None):
        self.state_file = state_file
        self.api_key = api_key or "sandbox-" + secrets.token_hex(12)
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.process = None
        self.url = None

    def start(self, timeout=30):
        env = dict(os.environ, SANDBOX_RUNPOD_API_KEY=self.api_key, **self.extra_env)
        cmd = [sys.executable, "-m", "tests.sandbox.runpod_api", "--port", "0",
               "--state", self.state_file] + self.extra_args
        self.process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                        text=True)
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline()
        if not line.startswith("RUNPOD_API_BASE_URL=") or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError("sandbox RunPod API did not start: %r" % line)
        self.url = line.strip().split("=", 1)[1]
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def env(self):
        """Environment for clients: the SDK and the collection read these."""
        return {"RUNPOD_API_BASE_URL": self.url, "RUNPOD_API_KEY": self.api_key}

    # ----------------------------------------------------------- admin API
    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + "/_sandbox/" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def reset(self):
        return self.admin("POST", "reset", {})

    def configure(self, **config):
        return self.admin("POST", "config", config)

    def set_stock(self, gpu, cloud="ALL", count=None, cuda=None):
        body = {"gpu": gpu, "cloud": cloud}
        if count is not None:
            body["count"] = count
        if cuda is not None:
            body["cuda"] = cuda
        return self.admin("POST", "stock", body)

    def fault(self, **rule):
        return self.admin("POST", "faults", rule)

    def clear_faults(self):
        return self.admin("DELETE", "faults")

    def requests(self):
        return self.admin("GET", "requests")["requests"]

    def clear_requests(self):
        return self.admin("DELETE", "requests")

    def pods(self):
        return self.admin("GET", "state")["pods"]

    def bulk_pods(self, count, prefix="bulk-", gpu="NVIDIA A40"):
        return self.admin("POST", "pods/bulk", {"count": count, "prefix": prefix, "gpu": gpu})["ids"]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
