"""Run the Fun-Audio-Chat stand-in server locally, as the app would be run on a pod (tests only)."""

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

from tests.sandbox.control import REPO_ROOT, ModelHub

STANDIN = os.path.join(REPO_ROOT, "tests", "sandbox", "fun_audio_chat")
MODEL_REPOS = ("FunAudioLLM/Fun-Audio-Chat-8B", "FunAudioLLM/Fun-CosyVoice3-0.5B-2512")


def prepare_app(root):
    """Copy the stand-in app to ``root`` and download its models from a sandbox hub, as the models role does."""
    from huggingface_hub import constants, snapshot_download  # pylint: disable=import-outside-toplevel
    shutil.copytree(STANDIN, root)
    with ModelHub() as hub:
        saved = constants.ENDPOINT, constants.HUGGINGFACE_CO_URL_TEMPLATE
        constants.ENDPOINT = hub.url
        constants.HUGGINGFACE_CO_URL_TEMPLATE = hub.url + "/{repo_id}/resolve/{revision}/{filename}"
        try:
            for repo_id in MODEL_REPOS:
                snapshot_download(repo_id, local_dir=os.path.join(str(root), "pretrained_models",
                                                                  repo_id.split("/")[1]))
        finally:
            constants.ENDPOINT, constants.HUGGINGFACE_CO_URL_TEMPLATE = saved
    return root


STANDIN_VENV = os.path.join(REPO_ROOT, ".cache", "standin-venv")
# What the app role installs on a pod: the stand-in's requirements, then sphn,
# aiohttp and the ruamel.yaml pin. Kept apart from the dev venv, whose
# ansible-lint needs ruamel.yaml>=0.18 (which breaks HyperPyYAML).
STANDIN_PACKAGES = ["-r", os.path.join(STANDIN, "requirements.txt"), "sphn==0.2.1", "aiohttp==3.14.5",
                    "ruamel.yaml<0.18"]


def standin_python():
    """The interpreter of a virtualenv holding what the app role would install (made once, cached)."""
    python = os.path.join(STANDIN_VENV, "bin", "python")
    stamp = os.path.join(STANDIN_VENV, ".installed")
    with open(os.path.join(STANDIN, "requirements.txt"), "rb") as handle:
        wanted = repr((handle.read(), STANDIN_PACKAGES))
    if os.path.exists(stamp) and open(stamp, encoding="utf-8").read() == wanted:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", STANDIN_VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + STANDIN_PACKAGES,
                   check=True)
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    return python


def path_with_gpus(bin_dir, count):
    """A PATH whose nvidia-smi lists ``count`` GPUs (the sandbox pods' nvidia-smi does the same on a pod)."""
    os.makedirs(bin_dir, exist_ok=True)
    script = os.path.join(bin_dir, "nvidia-smi")
    lines = "".join("echo 'GPU %d: NVIDIA A40 (UUID: GPU-sandbox-%04d)'\n" % (i, i) for i in range(count))
    with open(script, "w", encoding="utf-8") as handle:
        handle.write("#!/bin/sh\n" + lines)
    os.chmod(script, os.stat(script).st_mode | stat.S_IEXEC)
    return str(bin_dir) + os.pathsep + os.environ["PATH"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StandinServer:
    """``python -m web_demo.server.server`` from an app root, with its log kept line by line."""

    def __init__(self, root, path, tts_gpu=0, model_path="pretrained_models/Fun-Audio-Chat-8B"):
        self.root = str(root)
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=str(root), PATH=path, FAC_STANDIN_LOAD_SECONDS="0.5",
                   PYTHONUNBUFFERED="1")
        self.log = []
        self.proc = subprocess.Popen(
            [standin_python(), "-m", "web_demo.server.server", "--model-path", model_path, "--port", str(self.port),
             "--host", "127.0.0.1", "--tts-gpu", str(tts_gpu)],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)  # its own process group: stop() ends the TTS worker too

    @property
    def url(self):
        return "ws://127.0.0.1:%d/api/chat" % self.port

    def wait_for_line(self, wanted, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.log.append(line.rstrip("\n"))
            if wanted in line:
                return
        raise AssertionError("no %r in the log: %s" % (wanted, self.log))

    def wait_until_listening(self, timeout=30):
        deadline = time.monotonic() + timeout
        while not self.port_open():
            if time.monotonic() > deadline:
                raise AssertionError("the stand-in never opened port %d: %s" % (self.port, self.log))
            time.sleep(0.05)

    def port_open(self):
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
