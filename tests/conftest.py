"""Shared fixtures: the collection on sys.path and a sandbox RunPod API per test session."""

import os
import sys

import pytest

from tests.sandbox.control import REPO_ROOT, SandboxAPI

COLLECTIONS = os.path.join(REPO_ROOT, ".collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "funaudiochat", "runpod")


def _link_collection():
    """Make the checkout importable as ansible_collections.funaudiochat.runpod (as `make venv` does)."""
    if not os.path.exists(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(os.path.relpath(REPO_ROOT, os.path.dirname(LINK)), LINK)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)


_link_collection()


@pytest.fixture(scope="session")
def sandbox_api(tmp_path_factory):
    """One sandbox RunPod API (memory backend) for the whole test session."""
    state = tmp_path_factory.mktemp("sandbox") / "state.json"
    api = SandboxAPI(str(state)).start()
    saved = {key: os.environ.get(key) for key in api.env()}
    os.environ.update(api.env())
    yield api
    api.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def sandbox(sandbox_api):
    """The sandbox API, reset to an empty account before the test."""
    sandbox_api.reset()
    return sandbox_api
