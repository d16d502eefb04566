"""The background sandbox of ``python -m tests.sandbox up|env|down``.

``up`` builds the pod image if needed, makes an SSH key pair, and starts the
sandbox RunPod API (podman backend) detached from the terminal; what a client
needs to reach it is kept in ``<state dir>/sandbox.json`` (mode 0600). ``up``
on a running sandbox does nothing. ``down`` stops the API and removes every
container and volume this sandbox made.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from . import podman
from .control import REPO_ROOT
from .pod_image import ensure_image

DEFAULT_STATE_DIR = os.path.join(REPO_ROOT, "tests", "sandbox", "state")


class SandboxStack:
    """One background sandbox, described by the files of its state directory."""

    def __init__(self, state_dir=None):
        self.state_dir = os.path.abspath(state_dir or os.environ.get("SANDBOX_STATE_DIR") or DEFAULT_STATE_DIR)
        self.info_file = os.path.join(self.state_dir, "sandbox.json")
        self.ssh_key = os.path.join(self.state_dir, "ssh", "id_ed25519")

    # ------------------------------------------------------------ queries
    def info(self):
        try:
            with open(self.info_file, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def running(self):
        info = self.info()
        if not info or not _alive(info["pid"]):
            return False
        try:
            with urllib.request.urlopen(info["url"] + "/_sandbox/health", timeout=5) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def env(self):
        """What a shell, Ansible or the SDK needs to use this sandbox."""
        info = self.info()
        if not info:
            raise RuntimeError("the sandbox is not up: run `python -m tests.sandbox up`")
        known_hosts = os.path.join(self.state_dir, "known_hosts")
        return {
            "RUNPOD_API_BASE_URL": info["url"],
            "RUNPOD_API_KEY": info["api_key"],
            "SANDBOX_ADMIN_URL": info["url"] + "/_sandbox",
            "SANDBOX_INSTANCE": info["instance"],
            "SANDBOX_SSH_KEY": self.ssh_key,
            "SANDBOX_SSH_PUBLIC_KEY_FILE": self.ssh_key + ".pub",
            "ANSIBLE_PRIVATE_KEY_FILE": self.ssh_key,
            # Pods get new host keys on every resume and reuse 127.0.0.1 ports:
            # keep their keys in the sandbox's own known_hosts, never ~/.ssh.
            "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s "
                                "-o StrictHostKeyChecking=no -o UserKnownHostsFile=" + known_hosts,
        }

    # ---------------------------------------------------------- lifecycle
    def up(self, boot_seconds=None, timeout=60):
        if self.running():
            return self.info()
        self._stop_api()
        os.makedirs(self.state_dir, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        image = ensure_image()
        self._ensure_ssh_key()
        # After a crash, carry on with the same account: its pods' containers
        # carry the old instance label and the persisted state names them.
        previous = self.info() or {}
        instance = previous.get("instance") or "sandbox-" + secrets.token_hex(4)
        api_key = previous.get("api_key") or "sandbox-" + secrets.token_hex(12)
        log_path = os.path.join(self.state_dir, "api.log")
        cmd = [sys.executable, "-m", "tests.sandbox.runpod_api", "--port", "0", "--backend", "podman",
               "--instance", instance, "--state", os.path.join(self.state_dir, "runpod.json")]
        if boot_seconds is not None:
            cmd += ["--boot-seconds", str(boot_seconds)]
        env = dict(os.environ, SANDBOX_RUNPOD_API_KEY=api_key, SANDBOX_POD_IMAGE=image)
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        url = _wait_for_url(log_path, proc, timeout)
        info = {"pid": proc.pid, "url": url, "api_key": api_key, "instance": instance, "image": image}
        fd = os.open(self.info_file + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(info, handle)
        os.replace(self.info_file + ".tmp", self.info_file)
        return info

    def down(self):
        """Stop the API and remove this sandbox's containers, volumes and account state."""
        info = self.info()
        self._stop_api()
        removed = ([], [])
        if info:
            removed = podman.remove_labelled(info["instance"])
        for name in ("sandbox.json", "runpod.json", "known_hosts"):
            try:
                os.remove(os.path.join(self.state_dir, name))
            except FileNotFoundError:
                pass
        return removed

    def _stop_api(self):
        info = self.info()
        if not info or not _alive(info["pid"]):
            return
        os.kill(info["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(info["pid"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(info["pid"]):
            os.kill(info["pid"], signal.SIGKILL)

    def _ensure_ssh_key(self):
        if os.path.exists(self.ssh_key) and os.path.exists(self.ssh_key + ".pub"):
            return
        os.makedirs(os.path.dirname(self.ssh_key), mode=0o700, exist_ok=True)
        for path in (self.ssh_key, self.ssh_key + ".pub"):
            if os.path.exists(path):
                os.remove(path)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "funaudiochat-sandbox",
                        "-f", self.ssh_key], check=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) is not alive.
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for_url(log_path, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("RUNPOD_API_BASE_URL="):
                    return line.strip().split("=", 1)[1]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the sandbox RunPod API did not start; see %s" % log_path)
