"""``python -m tests.sandbox up|env|down``: the background sandbox an operator or make target uses."""

import json
import os
import shlex
import signal
import subprocess
import sys
import urllib.request

import runpod

from tests.helpers import ssh, wait_for_ssh
from tests.sandbox import podman
from tests.sandbox.control import REPO_ROOT
from tests.sandbox.runpod_api.podman_backend import host_address

# Where sandbox pods publish their ports: this machine's own address, their public IP.
PUBLIC_IP = host_address()


def sandbox(state_dir, *args):
    return subprocess.run([sys.executable, "-m", "tests.sandbox", *args, "--state-dir", str(state_dir)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)


def parse_env(text):
    env = {}
    for line in text.splitlines():
        assert line.startswith("export "), line
        key, _sep, value = line[len("export "):].partition("=")
        env[key] = shlex.split(value)[0]
    return env


def test_up_env_down(tmp_path, monkeypatch):
    state_dir = tmp_path / "sandbox"
    instance = None
    try:
        first = sandbox(state_dir, "up")
        assert first.returncode == 0, first.stderr
        info_before = (state_dir / "sandbox.json").read_text()
        again = sandbox(state_dir, "up")
        assert again.returncode == 0 and (state_dir / "sandbox.json").read_text() == info_before
        assert oct((state_dir / "sandbox.json").stat().st_mode & 0o777) == "0o600"

        env = parse_env(sandbox(state_dir, "env").stdout)
        for key in ("RUNPOD_API_BASE_URL", "RUNPOD_API_KEY", "SANDBOX_SSH_KEY", "SANDBOX_SSH_PUBLIC_KEY_FILE",
                    "HF_ENDPOINT", "SANDBOX_POD_HF_ENDPOINT", "SANDBOX_APP_REPO", "SANDBOX_POD_APP_REPO", "ANSIBLE_PRIVATE_KEY_FILE",
                    "FUNAUDIOCHAT_KNOWN_HOSTS"):
            assert env.get(key), key
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        runpod.api_key = env["RUNPOD_API_KEY"]
        with open(env["SANDBOX_SSH_PUBLIC_KEY_FILE"], encoding="utf-8") as handle:
            created = runpod.create_pod("fac-stack", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "NVIDIA A40", ports="22/tcp",
                                        env={"PUBLIC_KEY": handle.read().strip()})
        pod = runpod.get_pod(created["id"])
        port = next(p["publicPort"] for p in pod["runtime"]["ports"] if p["privatePort"] == 22)
        wait_for_ssh(PUBLIC_IP, port, env["SANDBOX_SSH_KEY"])
        assert ssh(PUBLIC_IP, port, env["SANDBOX_SSH_KEY"], "hostname").stdout.strip() == created["id"]
        # The model hub answers from this machine and from inside the pod.
        config = "/FunAudioLLM/Fun-Audio-Chat-8B/resolve/main/config.json"
        with urllib.request.urlopen(env["HF_ENDPOINT"] + config, timeout=10) as response:
            assert response.status == 200 and response.headers["X-Repo-Commit"]
        inside = ssh(PUBLIC_IP, port, env["SANDBOX_SSH_KEY"],
                     "curl -fsS -o /dev/null -w '%{http_code}' " + env["SANDBOX_POD_HF_ENDPOINT"] + config)
        assert inside.stdout == "200", inside.stderr
        # So does the app's git repo, submodules included.
        clone = ssh(PUBLIC_IP, port, env["SANDBOX_SSH_KEY"],
                    "git clone -q --recurse-submodules %s /opt/app && ls /opt/app/third_party/CosyVoice"
                    % env["SANDBOX_POD_APP_REPO"])
        assert clone.stdout.split() == ["README.md", "cosyvoice"], clone.stderr
        instance = env["SANDBOX_INSTANCE"]
        assert podman.run("ps", "--filter", "label=%s=%s" % (podman.LABEL, instance), "--format", "{{.Names}}").split()

        # The API dies and the pod's container is lost: `up` carries on with the same
        # account and brings the pod back on the port RunPod reported.
        os.kill(json.loads((state_dir / "sandbox.json").read_text())["api"]["pid"], signal.SIGKILL)
        podman.run("rm", "-f", "-t", "0", "runpod-sandbox-" + created["id"])
        assert sandbox(state_dir, "up").returncode == 0
        assert parse_env(sandbox(state_dir, "env").stdout)["RUNPOD_API_KEY"] == env["RUNPOD_API_KEY"]
        monkeypatch.setenv("RUNPOD_API_BASE_URL", parse_env(sandbox(state_dir, "env").stdout)["RUNPOD_API_BASE_URL"])
        [back] = runpod.get_pods()
        assert next(p["publicPort"] for p in back["runtime"]["ports"] if p["privatePort"] == 22) == port
        wait_for_ssh(PUBLIC_IP, port, env["SANDBOX_SSH_KEY"])
    finally:
        down = sandbox(state_dir, "down")
    assert down.returncode == 0, down.stderr
    assert "removed 1 container(s)" in down.stdout
    assert podman.run("ps", "-a", "--filter", "label=%s=%s" % (podman.LABEL, instance), "--format", "{{.Names}}") == ""
    assert not os.path.exists(state_dir / "sandbox.json")
    assert sandbox(state_dir, "env").returncode == 1


def test_down_when_nothing_is_up_is_harmless(tmp_path):
    result = sandbox(tmp_path / "never-up", "down")
    assert result.returncode == 0 and "removed 0 container(s)" in result.stdout
