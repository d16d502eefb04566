"""The background sandbox of ``python -m tests.sandbox up|env|down``.

``up`` builds the pod image if needed, makes an SSH key pair, and starts,
detached from the terminal:

* the sandbox RunPod API with the podman backend (pods are containers);
* the model hub (stand-in Hugging Face Hub) and the Fun-Audio-Chat stand-in's
  git repos (plain HTTP), listening on all interfaces so pods reach them as
  ``host.containers.internal``.

What a client needs to reach them is kept in ``<state dir>/sandbox.json``
(mode 0600). ``up`` on a running sandbox does nothing; after a crash it carries
on with the same account. ``down`` stops both and removes every container and
volume this sandbox made.
"""

import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from . import podman
from .control import REPO_ROOT
from .pod_image import ensure_images
from .pod_image.build import torch_wheel
from . import https_proxy
from .runpod_api.podman_backend import HOST_CA_BUNDLE, POD_CA_BUNDLE

DEFAULT_STATE_DIR = os.path.join(REPO_ROOT, "tests", "sandbox", "state")
SERVICES = ("api", "hub", "repo", "wheels", "proxy")
POD_HOST = "host.containers.internal"  # the host, as seen from a sandbox pod
# A hub with a profile (``real``: ~19 GB) hashes its files once before it answers; later starts read the cache.
PROFILE_HASH_SECONDS = 600


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
                info = json.load(handle)
        except (OSError, ValueError):
            return None
        return info if all(name in info for name in SERVICES) else None

    def running(self):
        info = self.info()
        return bool(info) and all(_healthy(info[name]) for name in SERVICES)

    def env(self):
        """What a shell, Ansible or the SDK needs to use this sandbox."""
        info = self.info()
        if not info:
            raise RuntimeError("the sandbox is not up: run `python -m tests.sandbox up`")
        known_hosts = os.path.join(self.state_dir, "known_hosts")
        self._write_role_vars(info)
        hub_port = info["hub"]["url"].rsplit(":", 1)[1]
        repo_url = info["repo"]["url"]
        return {
            "RUNPOD_API_BASE_URL": info["api"]["url"],
            "RUNPOD_API_KEY": info["api_key"],
            "SANDBOX_ADMIN_URL": info["api"]["url"] + "/_sandbox",
            "SANDBOX_INSTANCE": info["instance"],
            "SANDBOX_SSH_KEY": self.ssh_key,
            "SANDBOX_SSH_PUBLIC_KEY_FILE": self.ssh_key + ".pub",
            # The model hub: HF_ENDPOINT from this machine, SANDBOX_POD_HF_ENDPOINT from inside a pod.
            "HF_ENDPOINT": info["hub"]["url"],
            "SANDBOX_POD_HF_ENDPOINT": "http://%s:%s" % (POD_HOST, hub_port),
            # The app's git repo (submodules alongside): from this machine, and from inside a pod.
            "SANDBOX_APP_REPO": repo_url,
            "SANDBOX_POD_APP_REPO": repo_url.replace("127.0.0.1", POD_HOST, 1),
            # The roles' variables that point pods at the sandbox (ansible-playbook -e @file).
            "SANDBOX_ROLE_VARS": self.role_vars_file,
            # RunPod's HTTPS proxy: https://<pod id>-<port>.proxy.runpod.net is served here (a browser maps the
            # name with --host-resolver-rules).
            "SANDBOX_HTTPS_PROXY": info["proxy"]["url"],
            "ANSIBLE_PRIVATE_KEY_FILE": self.ssh_key,
            # The collection's own host-key policy (module_utils/_ssh.py), with
            # the sandbox pods' keys in the sandbox's known_hosts, not ~/.ssh.
            "FUNAUDIOCHAT_KNOWN_HOSTS": known_hosts,
            # The front door's keys, made by the playbooks (playbooks/vars/front_door.yml), in the sandbox's own
            # directory rather than ~/.config.
            "FUNAUDIOCHAT_SECRETS_DIR": os.path.join(self.state_dir, "secrets"),
        }

    # ---------------------------------------------------------- lifecycle
    def up(self, boot_seconds=None, timeout=60, link=None, hub_profile=None):
        """Start the services (nothing when they run); ``link`` ({"rate", "total", "latency_ms"}) paces
        what pods download from the hub, the app repo and the wheels server (tests.sandbox.link);
        ``hub_profile="real"`` serves the models at their real sizes."""
        if self.running():
            return self.info()
        # After a crash, carry on with the same account: its pods' containers
        # carry the old instance label and the persisted state names them.
        previous = self._raw_info()
        self._stop_services(previous)
        os.makedirs(self.state_dir, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        images = ensure_images()
        self._ensure_ssh_key()
        instance = previous.get("instance") or "sandbox-" + secrets.token_hex(4)
        api_key = previous.get("api_key") or "sandbox-" + secrets.token_hex(12)
        # On all interfaces: pods call the API too (runpodctl, their own key), as host.containers.internal.
        api_cmd = ["-m", "tests.sandbox.runpod_api", "--host", "0.0.0.0", "--port", "0", "--backend", "podman",
                   "--instance", instance, "--state", os.path.join(self.state_dir, "runpod.json")]
        if boot_seconds is not None:
            api_cmd += ["--boot-seconds", str(boot_seconds)]
        info = {"instance": instance, "api_key": api_key, "images": images}
        link_args = []
        for name, value in sorted((link or {}).items()):
            link_args += ["--link-" + name.replace("_", "-"), str(value)]
        hub_args = ["--profile", hub_profile] if hub_profile else []
        try:
            info["api"] = self._spawn("api", api_cmd, "RUNPOD_API_BASE_URL", timeout,
                                      SANDBOX_RUNPOD_API_KEY=api_key,
                                      SANDBOX_HOST_CA_BUNDLE=self._pod_ca_bundle())
            info["hub"] = self._spawn("hub", ["-m", "tests.sandbox.model_hub", "--host", "0.0.0.0", "--port", "0"]
                                      + hub_args + link_args, "HF_ENDPOINT",
                                      max(timeout, PROFILE_HASH_SECONDS if hub_args else 0))
            info["repo"] = self._spawn("repo", ["-m", "tests.sandbox.app_repo", "--dir",
                                                os.path.join(self.state_dir, "git"), "--host", "0.0.0.0",
                                                "--port", "0"] + link_args, "SANDBOX_APP_REPO", timeout)
            wheel_dir, torch_version = torch_wheel()
            info["torch_version"] = torch_version
            wheels_cmd = ["-m", "tests.sandbox.static_http", "--dir", wheel_dir, "--host", "0.0.0.0", "--port", "0"]
            info["wheels"] = self._spawn("wheels", wheels_cmd + link_args, "SANDBOX_WHEELS", timeout)
            # RunPod's HTTPS proxy (https://<pod id>-<port>.proxy.runpod.net) for ports declared <port>/http.
            # On every address: pods reach it too, as a fleet's main front door reaches the others' doors through
            # RunPod's proxy (front_door_fleet_proxy_address), trusting its certificate (in the pods' CA bundle).
            info["proxy"] = self._spawn("proxy", ["-m", "tests.sandbox.https_proxy", "--api", info["api"]["url"],
                                                  "--cert-dir", self._proxy_cert_dir(), "--host", "0.0.0.0"],
                                        "SANDBOX_PROXY", timeout)
        finally:
            self._write_info(info)
        return info

    def down(self):
        """Stop the services and remove this sandbox's containers, volumes and account state."""
        info = self._raw_info()
        self._stop_services(info)
        removed = ([], [])
        if info.get("instance"):
            removed = podman.remove_labelled(info["instance"])
        for name in ("sandbox.json", "runpod.json", "known_hosts", "role-vars.yml"):
            try:
                os.remove(os.path.join(self.state_dir, name))
            except FileNotFoundError:
                pass
        return removed

    @property
    def role_vars_file(self):
        return os.path.join(self.state_dir, "role-vars.yml")

    def deploy_vars(self, **extra):
        """deploy.yml's variables for a sandbox pod: the role variables, the sandbox's SSH key, then ``extra``."""
        return dict(self.role_vars(), ssh_public_key_file=self.ssh_key + ".pub", **extra)

    def role_vars(self, info=None):
        """The roles' variables that point a sandbox pod at the sandbox's hub, app repo and torch wheel."""
        info = info or self.info()

        def pod_url(service):
            return info[service]["url"].replace("127.0.0.1", POD_HOST, 1)
        return {
            "models_hf_endpoint": pod_url("hub"),
            "app_repo_url": pod_url("repo"),
            "app_version": "main",
            # The CPU build of torch served to pods; it has no torchaudio wheel and sees no GPU.
            "torch_version": info["torch_version"],
            "torch_audio_version": "",
            "torch_cuda": "",
            "torch_index_url": "",
            "torch_find_links": pod_url("wheels"),
            "torch_extra_pip_args": ["--trusted-host", POD_HOST],  # pip refuses plain-HTTP find-links otherwise
            "torch_require_gpu": False,
            # The pods reach npm's registry through this machine's TLS-inspecting proxy, whose CA is in the
            # system bundle that pip and requests are pointed at too (podman_backend); Node.js trusts only its
            # own CAs unless told.
            "front_door_npm_cafile": POD_CA_BUNDLE,
            # RunPod's HTTPS proxy, by which a fleet's main front door reaches the other pods' doors: the pods reach
            # the sandbox's at this machine's address, by the same names (TLS and Host header).
            "front_door_fleet_proxy_address": "%s:%s" % (POD_HOST, info["proxy"]["url"].rsplit(":", 1)[1]),
        }

    def _write_role_vars(self, info):
        fd = os.open(self.role_vars_file + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.role_vars(info), handle, indent=2)  # JSON is YAML: -e @file reads it
        os.replace(self.role_vars_file + ".tmp", self.role_vars_file)

    # ------------------------------------------------------------ helpers
    def _raw_info(self):
        try:
            with open(self.info_file, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def _write_info(self, info):
        fd = os.open(self.info_file + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(info, handle)
        os.replace(self.info_file + ".tmp", self.info_file)

    def _proxy_cert_dir(self):
        return os.path.join(self.state_dir, "proxy")

    def _pod_ca_bundle(self):
        """The CA bundle pods get: this machine's (as podman_backend mounts it) and the HTTPS proxy's certificate,
        made here before the proxy starts (it reuses it), as RunPod's proxy has a certificate pods trust."""
        cert_file, _key_file = https_proxy.certificate(self._proxy_cert_dir())
        bundle = os.path.join(self.state_dir, "pod-ca-bundle.crt")
        with open(bundle, "w", encoding="utf-8") as out:
            if os.path.exists(HOST_CA_BUNDLE):
                with open(HOST_CA_BUNDLE, encoding="utf-8") as host:
                    out.write(host.read().rstrip("\n") + "\n")
            with open(cert_file, encoding="utf-8") as cert:
                out.write(cert.read())
        return bundle

    def _spawn(self, name, args, url_var, timeout, **env):
        """Start ``python ARGS`` detached; return {"pid", "url"} once it prints ``URL_VAR=url``."""
        log_path = os.path.join(self.state_dir, name + ".log")
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen([sys.executable] + args, cwd=REPO_ROOT, env=dict(os.environ, **env),
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        return {"pid": proc.pid, "url": _wait_for_url(log_path, url_var, proc, timeout)}

    @staticmethod
    def _stop_services(info):
        for name in SERVICES:
            pid = (info.get(name) or {}).get("pid")
            if pid and _alive(pid):
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)

    def _ensure_ssh_key(self):
        if os.path.exists(self.ssh_key) and os.path.exists(self.ssh_key + ".pub"):
            return
        os.makedirs(os.path.dirname(self.ssh_key), mode=0o700, exist_ok=True)
        for path in (self.ssh_key, self.ssh_key + ".pub"):
            if os.path.exists(path):
                os.remove(path)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "funaudiochat-sandbox",
                        "-f", self.ssh_key], check=True)


def _healthy(service):
    if not _alive(service["pid"]):
        return False
    try:
        origin = urllib.parse.urlsplit(service["url"])._replace(path="").geturl()
        # The HTTPS proxy's certificate is its own, self-signed (tests.sandbox.https_proxy).
        context = ssl._create_unverified_context() if origin.startswith("https:") else None  # pylint: disable=protected-access
        with urllib.request.urlopen(origin + "/_sandbox/health", timeout=5, context=context) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


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


def _wait_for_url(log_path, url_var, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(url_var + "="):
                    return line.strip().split("=", 1)[1]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("a sandbox service did not start; see %s" % log_path)
