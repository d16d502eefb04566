"""Sandbox pods look like RunPod's official images where the roles can tell (issue: pods as they really are).

The image a pod is created with picks the sandbox image: runpod/pytorch
torch 2.8.0 names get the image with torch preinstalled for the image's own
`python`, runpod/base names the one without. Like RunPod's images, `python`
is not Ansible's /usr/bin/python3, the start script writes the container's
env to /etc/rp_environment, starts sshd only when PUBLIC_KEY is set, and runs
/pre_start.sh and /post_start.sh.
"""

import runpod

from tests.helpers import ssh, wait_for_ssh
from tests.sandbox import podman
from tests.sandbox.runpod_api.podman_backend import container_name, host_address

# Where sandbox pods publish their ports: this machine's own address, their public IP.
PUBLIC_IP = host_address()


TORCH_IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"
BASE_IMAGE = "runpod/base:1.0.2-cuda1281-ubuntu2204"


def _create(sandbox, image, **env):
    runpod.api_key = sandbox.api_key
    created = runpod.create_pod("fac-image", image, "NVIDIA A40", ports="22/tcp", env=env)
    pod = runpod.get_pod(created["id"])
    assert pod["runtime"], pod
    port = next(p["publicPort"] for p in pod["runtime"]["ports"] if p["privatePort"] == 22)
    return pod, port


def test_the_apps_python_is_not_ansibles_and_has_torch(podman_sandbox):
    pod, port = _create(podman_sandbox, TORCH_IMAGE, PUBLIC_KEY=podman_sandbox.public_key, APP_MODE="x")
    wait_for_ssh(PUBLIC_IP, port, podman_sandbox.ssh_key)

    def run(command):
        # A first import of torch reads its ~1 GB of libraries from a new container layer: on a busy 2-core CI
        # machine that once took over 60 s.
        return ssh(PUBLIC_IP, port, podman_sandbox.ssh_key, command, timeout=300)
    assert run("command -v python").stdout.strip() == "/usr/local/bin/python"
    prefixes = run("python -c 'import sys; print(sys.prefix)'; /usr/bin/python3 -c 'import sys; print(sys.prefix)'")
    app_prefix, ansible_prefix = prefixes.stdout.split()
    assert app_prefix != ansible_prefix and ansible_prefix == "/usr"
    assert run("python -c 'import torch'").returncode == 0
    assert "No module named 'torch'" in run("/usr/bin/python3 -c 'import torch'").stderr
    assert run("ffmpeg -version && git --version").returncode == 0
    env = run("cat /etc/rp_environment").stdout
    for line in ("export RUNPOD_POD_ID=%s" % pod["id"], "export HF_HOME=/workspace/.cache/huggingface/",
                 "export PIP_CACHE_DIR=/workspace/.cache/pip/", "export PIP_BREAK_SYSTEM_PACKAGES=1",
                 "export PYTHONUNBUFFERED=True", "export APP_MODE=x"):
        assert line in env.splitlines(), env
    assert "PUBLIC_KEY" not in env  # RunPod's start script leaves the key out


def test_the_base_image_has_no_torch(podman_sandbox):
    _pod, port = _create(podman_sandbox, BASE_IMAGE, PUBLIC_KEY=podman_sandbox.public_key)
    wait_for_ssh(PUBLIC_IP, port, podman_sandbox.ssh_key)
    result = ssh(PUBLIC_IP, port, podman_sandbox.ssh_key, "python -c 'import torch'")
    assert result.returncode != 0 and "No module named 'torch'" in result.stderr


def test_without_public_key_no_sshd_and_start_scripts_run_in_order(podman_sandbox):
    pod, _port = _create(podman_sandbox, TORCH_IMAGE)
    name = container_name(pod["id"])
    assert podman.run("exec", name, "pgrep", "-x", "sshd", check=False).strip() == ""
    podman.run("exec", name, "sh", "-c", "echo 'echo pre >> /order' > /pre_start.sh;"
               " echo 'echo post >> /order' > /post_start.sh")
    podman.run("restart", "-t", "1", name)  # a container restart keeps the container disk
    for _attempt in range(50):
        order = podman.run("exec", name, "cat", "/order", check=False).split()
        if order:
            break
    assert order == ["pre", "post"]
    log = podman.run("logs", name)
    restarted = log[log.rindex("Running pre-start script..."):]  # the log holds the first start too
    assert restarted.index("Pod Started") < restarted.index("Running post-start script...")
    assert "Setting up SSH" not in log
