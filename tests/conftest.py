"""Shared fixtures: a sandbox RunPod API per test session, pods, the stand-in app."""

import os
import secrets
import subprocess

import pytest

from tests.sandbox import podman
from tests.sandbox.control import SandboxAPI
from tests.sandbox.pod_image import ensure_images
from tests.sandbox.stack import SandboxStack
from tests.standin import StandinServer, path_with_gpus, prepare_app

# Importing tests.sandbox (above) made the checkout importable as
# ansible_collections.funaudiochat.runpod, as `make venv` links it.


def _exported(env):
    """Set env vars for the duration of a fixture (modules and the SDK read them)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    return saved


def _restore(saved):
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def sandbox_api(tmp_path_factory):
    """One sandbox RunPod API (memory backend) for the whole test session."""
    home = tmp_path_factory.mktemp("sandbox")
    state = home / "state.json"
    api = SandboxAPI(str(state)).start()
    # The key deploy.yml's pods trust (the memory sandbox's pods only show an SSH banner).
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / "id_ed25519")], check=True)
    api.public_key_file = str(home / "id_ed25519.pub")
    saved = _exported(api.env())
    yield api
    api.stop()
    _restore(saved)


@pytest.fixture(scope="session")
def podman_api(tmp_path_factory):
    """A sandbox RunPod API whose pods are real containers (podman backend).

    The pod image is built on first use (cached after). Every container and
    volume this session made is removed afterwards, whatever the outcome.
    """
    ensure_images()
    home = tmp_path_factory.mktemp("podman-sandbox")
    key = home / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    instance = "pytest-" + secrets.token_hex(4)
    api = SandboxAPI(str(home / "state.json"), extra_args=["--backend", "podman", "--instance", instance])
    api.instance = instance
    api.ssh_key = str(key)
    api.public_key = (home / "id_ed25519.pub").read_text(encoding="utf-8").strip()
    api.start()
    try:
        yield api
    finally:
        api.stop()
        podman.remove_labelled(instance)


@pytest.fixture
def podman_sandbox(podman_api, monkeypatch):
    """The podman-backed sandbox, emptied (containers included) before the test.

    Its URL and key are exported for this test only, so tests on the memory
    sandbox in the same worker keep theirs.
    """
    podman_api.reset()
    for key, value in podman_api.env().items():
        monkeypatch.setenv(key, value)
    return podman_api


@pytest.fixture
def sandbox(sandbox_api):
    """The sandbox API, reset to an empty account before the test."""
    sandbox_api.reset()
    return sandbox_api


@pytest.fixture
def sdk(sandbox):
    """The plain runpod SDK, unmodified, logged in to the emptied sandbox API."""
    import runpod  # pylint: disable=import-outside-toplevel
    runpod.api_key = sandbox.api_key
    yield runpod
    runpod.api_key = None


@pytest.fixture(scope="session")
def standin_app(tmp_path_factory):
    """The Fun-Audio-Chat stand-in app with its models downloaded from a sandbox hub."""
    return prepare_app(tmp_path_factory.mktemp("app") / "Fun-Audio-Chat")


@pytest.fixture
def standin(standin_app, tmp_path):
    """Start stand-in servers: ``standin(tts_gpu=0, gpu_count=1, model_path=...)``; all killed afterwards."""
    started = []

    def start(tts_gpu=0, gpu_count=1, **kwargs):
        server = StandinServer(standin_app, path_with_gpus(tmp_path / "bin", gpu_count), tts_gpu, **kwargs)
        started.append(server)
        return server
    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def sandbox_stack(tmp_path_factory):
    """The whole background sandbox (API with container pods, model hub, app repo, torch wheels), as `up` makes it."""
    stack = SandboxStack(state_dir=str(tmp_path_factory.mktemp("stack") / "sandbox"))
    stack.up()
    try:
        yield stack
    finally:
        stack.down()
