"""Build the sandbox pod images locally (no registry is reachable) and cache them.

Three layers, each tagged by a hash of its own recipe so a change rebuilds only
what it touches:

* base: ``debootstrap`` of Debian bookworm with python3, sshd, CA certificates,
  curl, git, ffmpeg (network from Debian's mirror), imported with
  ``podman import``;
* pod: the base shaped like RunPod's official images (its own ``python``/
  ``pip`` in /usr/local/bin, RunPod's env, ``start.sh``) and the sandbox
  ``nvidia-smi``, built with ``podman build --pull=never``: the stand-in for
  ``runpod/base:*``;
* torch: the pod plus torch for that ``python`` (the CPU build in this
  machine's pip find-links directory): the stand-in for
  ``runpod/pytorch:*-torch280-*``.

``variant_for(image_name)`` maps the image a pod is created with to one of
them; an image RunPod does not publish maps to none, and such a pod never gets
a runtime, as on RunPod.

Concurrent callers (pytest workers) serialize on a lock file; the loser finds
the image already built.
"""

import fcntl
import functools
import glob
import hashlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import time

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _images

from .. import podman
from ..control import REPO_ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
TORCH_FILES = os.path.join(HERE, "torch_layer")
CACHE_DIR = os.path.join(REPO_ROOT, ".cache", "sandbox")

SUITE = "bookworm"
MIRROR = os.environ.get("SANDBOX_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = (
    "python3", "python-is-python3", "openssh-server", "ca-certificates", "curl", "git", "tini",
    "procps", "iproute2", "less", "xz-utils", "python3-venv", "ffmpeg",
)
BASE_REPO = "localhost/funaudiochat-sandbox-base"
POD_REPO = "localhost/funaudiochat-sandbox-pod"
TORCH_REPO = "localhost/funaudiochat-sandbox-torch"
VARIANTS = ("pod", "torch")
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _digest(*parts):
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part if isinstance(part, bytes) else str(part).encode())
        sha.update(b"\0")
    return sha.hexdigest()[:12]


def base_tag():
    # The recipe is the package list and the steps of _build_base, not the rest of this file.
    return "%s:%s" % (BASE_REPO, _digest(SUITE, MIRROR, " ".join(PACKAGES), inspect.getsource(_build_base)))


def _files_digest(directory, *parts):
    parts = list(parts)
    for name in sorted(os.listdir(directory)):
        if not os.path.isfile(os.path.join(directory, name)):
            continue  # __pycache__ (a py_compile of runpodctl) is not image content
        with open(os.path.join(directory, name), "rb") as handle:
            parts += [name, handle.read()]
    return _digest(*parts)


def pod_tag():
    """The tag of the pod image (no torch) for the current recipe."""
    return "%s:%s" % (POD_REPO, _files_digest(FILES, base_tag()))


@functools.lru_cache(maxsize=None)
def torch_wheel():
    """The CPU torch wheel the torch layer installs: (directory, version), or (None, None).

    It lies in pip's configured find-links directory on these machines
    (``pip config list``); SANDBOX_WHEEL_DIR overrides.
    """
    directory = os.environ.get("SANDBOX_WHEEL_DIR") or _pip_find_links()
    wheels = sorted(glob.glob(os.path.join(directory or "/nonexistent", "torch-*-cp311-*.whl")))
    if not wheels:
        return None, None
    version = os.path.basename(wheels[-1]).split("-")[1]
    return directory, version


def _pip_find_links():
    try:
        listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                                text=True, check=False, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    for line in listed.splitlines():
        match = re.match(r"^[:\w.]*find-links='([^']+)'", line)
        if match and os.path.isdir(match.group(1).split()[0]):
            return match.group(1).split()[0]
    return "/opt/wheels" if os.path.isdir("/opt/wheels") else None


def torch_tag():
    """The tag of the torch image for the current recipe (pod tag + torch wheel)."""
    _directory, version = torch_wheel()
    return "%s:%s" % (TORCH_REPO, _files_digest(TORCH_FILES, pod_tag(), version))


def image_tag(variant="torch"):
    """The tag of one image variant for the current recipe."""
    return torch_tag() if variant == "torch" else pod_tag()


def variant_for(image_name):
    """The sandbox image variant standing in for ``image_name``, or None when RunPod has no such image."""
    if image_name in _images.TORCH_IMAGES:
        return "torch"
    if image_name in _images.BASE_IMAGES:
        return "pod"
    return None


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


def _build_torch(tag, pod):
    directory, version = torch_wheel()
    if version is None:
        raise podman.PodmanError("no CPU torch wheel for Python 3.11 in pip's find-links directory "
                                 "(`pip config list`); set SANDBOX_WHEEL_DIR to a directory holding one")
    args = ["build", "--pull=never", "--quiet", "--build-arg", "POD=" + pod,
            "--build-arg", "TORCH_SPEC=torch==" + version, "-v", "%s:/wheels:ro" % directory]
    if os.path.exists(HOST_CA_BUNDLE):  # pip reaches PyPI as the host does
        args += ["-v", "%s:%s:ro" % (HOST_CA_BUNDLE, HOST_CA_BUNDLE)]
    podman.run(*args, "-f", os.path.join(TORCH_FILES, "Containerfile"), "-t", tag, TORCH_FILES, timeout=1200)


def ensure_image(variant="torch"):
    """Return the tag of an image variant ("pod" or "torch"), building what is missing.

    Returns quickly when cached. Concurrent callers serialize on a lock file.
    """
    tag = image_tag(variant)
    if podman.image_exists(tag):
        return tag
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(os.path.join(CACHE_DIR, "build.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if podman.image_exists(tag):
            return tag
        base, pod, torch = base_tag(), pod_tag(), torch_tag()
        started = time.monotonic()
        if not podman.image_exists(base):
            _build_base(base)
            _log("base image %s built in %.0f s" % (base, time.monotonic() - started))
        if not podman.image_exists(pod):
            _build_pod(pod, base)
            _log("pod image %s ready in %.0f s" % (pod, time.monotonic() - started))
        if variant == "torch":
            _build_torch(torch, pod)
            _log("torch image %s ready in %.0f s" % (torch, time.monotonic() - started))
        _drop_stale(keep=(torch, pod, base))
    return tag


def ensure_images():
    """Build (or find) every variant; returns {variant: tag}."""
    return {variant: ensure_image(variant) for variant in VARIANTS}


def _drop_stale(keep):
    """Remove images of an older recipe (ones still used by a container stay)."""
    for repo in (BASE_REPO, POD_REPO, TORCH_REPO):
        for line in podman.run("images", "--format", "{{.Repository}}:{{.Tag}}", repo).split():
            if line not in keep:
                podman.run("rmi", line, check=False)
