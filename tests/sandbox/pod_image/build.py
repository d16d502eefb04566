"""Build the sandbox pod image locally (no registry is reachable) and cache it.

Two layers, each tagged by a hash of its own recipe so a change rebuilds only
what it touches:

* base: ``debootstrap`` of Debian bookworm with python3, sshd, CA certificates,
  curl, git (about a minute, network from Debian's mirror), imported with
  ``podman import``;
* pod: the base plus ``start.sh`` and the sandbox ``nvidia-smi``, built with
  ``podman build --pull=never``.

Concurrent callers (pytest workers) serialize on a lock file; the loser finds
the image already built.
"""

import fcntl
import hashlib
import inspect
import os
import shutil
import subprocess
import sys
import time

from .. import podman
from ..control import REPO_ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
CACHE_DIR = os.path.join(REPO_ROOT, ".cache", "sandbox")

SUITE = "bookworm"
MIRROR = os.environ.get("SANDBOX_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = (
    "python3", "python-is-python3", "openssh-server", "ca-certificates", "curl", "git", "tini",
    "procps", "iproute2", "less", "xz-utils",
)
BASE_REPO = "localhost/funaudiochat-sandbox-base"
POD_REPO = "localhost/funaudiochat-sandbox-pod"


def _digest(*parts):
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part if isinstance(part, bytes) else str(part).encode())
        sha.update(b"\0")
    return sha.hexdigest()[:12]


def base_tag():
    # The recipe is the package list and the steps of _build_base, not the rest of this file.
    return "%s:%s" % (BASE_REPO, _digest(SUITE, MIRROR, " ".join(PACKAGES), inspect.getsource(_build_base)))


def image_tag():
    """The tag of the pod image for the current recipe."""
    parts = [base_tag()]
    for name in sorted(os.listdir(FILES)):
        with open(os.path.join(FILES, name), "rb") as handle:
            parts += [name, handle.read()]
    return "%s:%s" % (POD_REPO, _digest(*parts))


def _log(message):
    sys.stderr.write("[sandbox image] %s\n" % message)
    sys.stderr.flush()


def _build_base(tag):
    if shutil.which("debootstrap") is None:
        raise podman.PodmanError("debootstrap is not installed: run `make system-deps` (apt-get install debootstrap)")
    work = os.path.join(CACHE_DIR, "rootfs")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(CACHE_DIR, exist_ok=True)
    log_path = os.path.join(CACHE_DIR, "debootstrap.log")
    _log("debootstrap %s from %s (log: %s)" % (SUITE, MIRROR, log_path))
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE, work, MIRROR],
            stdout=log, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        raise podman.PodmanError("debootstrap failed (exit %d); see %s" % (proc.returncode, log_path))
    # Per-pod host keys are made at start; downloaded .debs are not image content.
    for name in os.listdir(os.path.join(work, "etc", "ssh")):
        if name.startswith("ssh_host_"):
            os.remove(os.path.join(work, "etc", "ssh", name))
    archives = os.path.join(work, "var", "cache", "apt", "archives")
    for name in os.listdir(archives):
        if name.endswith(".deb"):
            os.remove(os.path.join(archives, name))
    archive = work + ".tar"
    subprocess.run(["tar", "-C", work, "--numeric-owner", "-cf", archive, "."], check=True)
    shutil.rmtree(work, ignore_errors=True)
    try:
        podman.run("import", "--change", 'CMD ["/bin/bash"]', archive, tag, timeout=900)
    finally:
        os.remove(archive)


def _build_pod(tag, base):
    podman.run("build", "--pull=never", "--quiet", "--build-arg", "BASE=" + base,
               "-f", os.path.join(FILES, "Containerfile"), "-t", tag, FILES, timeout=900)


def ensure_image():
    """Return the pod image tag, building what is missing. Returns quickly when cached."""
    tag = image_tag()
    if podman.image_exists(tag):
        return tag
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(os.path.join(CACHE_DIR, "build.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if podman.image_exists(tag):
            return tag
        base = base_tag()
        started = time.monotonic()
        if not podman.image_exists(base):
            _build_base(base)
            _log("base image %s built in %.0f s" % (base, time.monotonic() - started))
        _build_pod(tag, base)
        _log("pod image %s ready in %.0f s" % (tag, time.monotonic() - started))
        _drop_stale(keep=(tag, base))
    return tag


def _drop_stale(keep):
    """Remove images of an older recipe (ones still used by a container stay)."""
    for repo in (BASE_REPO, POD_REPO):
        for line in podman.run("images", "--format", "{{.Repository}}:{{.Tag}}", repo).split():
            if line not in keep:
                podman.run("rmi", line, check=False)
