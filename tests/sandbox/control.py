"""Start, stop and steer the sandbox servers from Python (tests, benchmarks): RunPod API, model hub."""

import json
import os
import secrets
import subprocess
import sys
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class SandboxProcess:
    """A sandbox server run as ``python -m MODULE``; it prints ``URL_VAR=url`` once listening."""

    module = None
    url_var = None

    def __init__(self, extra_args=(), extra_env=None):
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.process = None
        self.url = None

    def command(self):
        return [sys.executable, "-m", self.module, "--port", "0"] + self.extra_args

    def start(self):
        env = dict(os.environ, **self.extra_env)
        self.process = subprocess.Popen(self.command(), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # EOF (an empty line) if the server died first
        if not line.startswith(self.url_var + "="):
            self.stop()
            raise RuntimeError("%s did not start: %r" % (self.module, line))
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

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + "/_sandbox/" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def link(self, **settings):
        """Change this server's link (tests.sandbox.link): rate, total, latency_ms, cut_after, cuts."""
        return self.admin("POST", "link", settings)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class SandboxAPI(SandboxProcess):
    """A running ``python -m tests.sandbox.runpod_api`` process."""

    module = "tests.sandbox.runpod_api"
    url_var = "RUNPOD_API_BASE_URL"

    def __init__(self, state_file, api_key=None, extra_args=(), extra_env=None):
        self.state_file = state_file
        self.api_key = api_key or "sandbox-" + secrets.token_hex(12)
        super().__init__(extra_args, dict(extra_env or {}, SANDBOX_RUNPOD_API_KEY=self.api_key))

    def command(self):
        return super().command() + ["--state", self.state_file]

    def env(self):
        """Environment for clients: the SDK and the collection read these.

        The pods' host keys go to a known-hosts file next to the state, never ~/.ssh.
        """
        known_hosts = os.path.join(os.path.dirname(os.path.abspath(self.state_file)), "known_hosts")
        return {"RUNPOD_API_BASE_URL": self.url, "RUNPOD_API_KEY": self.api_key,
                "FUNAUDIOCHAT_KNOWN_HOSTS": known_hosts}

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


class ModelHub(SandboxProcess):
    """A running ``python -m tests.sandbox.model_hub`` (stand-in Hugging Face Hub)."""

    module = "tests.sandbox.model_hub"
    url_var = "HF_ENDPOINT"

    def __init__(self, token=None, extra_args=()):
        args = list(extra_args) + (["--gated"] if token else [])
        super().__init__(args, {"SANDBOX_HF_TOKEN": token} if token else None)
        self.token = token

    def stats(self):
        return self.admin("GET", "stats")

    def clear_stats(self):
        return self.admin("DELETE", "stats")

    def cut_next_download(self, after_bytes):
        return self.admin("POST", "faults", {"kind": "cut", "after_bytes": after_bytes})

    def fail_next(self, count, status=503):
        """The next ``count`` repo requests answer HTTP ``status``."""
        return self.admin("POST", "faults", {"kind": "status", "status": status, "count": count})
