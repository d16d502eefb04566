"""Sandbox pods as real containers (``--backend podman``).

Each running pod is a container of the sandbox pod image with its TCP ports
published on the machine's own address (what ``host.containers.internal``
names inside a pod; 127.0.0.1 on a machine without one), reported as the pod's
public IP: as on RunPod, where pods reach each other's public ports (a fleet's
front door does), the address works from this machine and from every pod.
As on RunPod:

* the container disk lives only as long as the container: stop removes the
  container, resume starts a fresh one with new host ports;
* the volume disk (``volumeInGb`` > 0) is a podman volume mounted at
  ``volumeMountPath`` that survives stop/resume and goes with terminate;
* a network volume is a podman volume of its own that outlives its pods.

The pod's env reaches the container, plus RUNPOD_POD_ID, RUNPOD_PUBLIC_IP,
RUNPOD_TCP_PORT_<n>, RUNPOD_GPU_COUNT, the pod's own RUNPOD_API_KEY (with
RUNPOD_API_BASE_URL pointing at this API, which RunPod's pods need not be told)
and what the sandbox nvidia-smi reports. A pod's ``dockerArgs`` replaces the
image's CMD (``/start.sh``), split into words as a shell would: a start command
that does not run ``/start.sh`` gets no sshd, as on RunPod.
"""

import os
import shlex
import socket

from .. import podman
from ..pod_image import ensure_image, variant_for
from . import catalogue
from .backends import port_specs

HOST_CA_BUNDLE = os.environ.get("SANDBOX_HOST_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
POD_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
POD_HOST = "host.containers.internal"  # this machine, as a pod sees it


def container_name(pod_id):
    return "runpod-sandbox-" + pod_id


def volume_disk_name(pod_id):
    return "runpod-sandbox-volume-" + pod_id


def network_volume_name(volume_id):
    return "runpod-sandbox-network-volume-" + volume_id


def host_address():
    """This machine's address on its default route (no packet is sent), or 127.0.0.1 without one.

    Podman points ``host.containers.internal`` at the same address, so ports
    published on it answer both here and inside the pods.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): only picks the route
            return sock.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def _free_port(address):
    """A free port on ``address``, chosen before the container starts so RUNPOD_TCP_PORT_<n> can carry it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def start_command(docker_args):
    """The container command for a pod's dockerArgs: none keeps the image's CMD.

    RunPod's docs show start commands such as ``bash -c '... && /start.sh'``: words and quotes as a
    shell reads them. Unbalanced quotes become one word that cannot run, so the pod never comes up.
    """
    if not docker_args:
        return []
    try:
        return shlex.split(docker_args)
    except ValueError:
        return [docker_args]


class PodmanBackend:
    """Pods as podman containers reached over real SSH."""

    name = "podman"

    def __init__(self, instance):
        self.instance = instance
        self.public_ip = host_address()
        self._images = {}
        self._checked = set()
        self.api_port = None

    def listening(self, port):
        """The API's port, so pods can call it (a pod stopping itself)."""
        self.api_port = port

    def image_for(self, pod):
        """The local image standing in for the pod's imageName (world.py never boots an unknown one)."""
        variant = variant_for(pod["imageName"])
        if variant not in self._images:
            self._images[variant] = ensure_image(variant)
        return self._images[variant]

    # -------------------------------------------------------------- hooks
    def start(self, pod):
        mapping = {}
        for private, kind in port_specs(pod.get("ports")):
            # RunPod serves http ports through its proxy, not on a public port.
            mapping["%d/%s" % (private, kind)] = _free_port(self.public_ip) if kind == "tcp" else private
        self._run(pod, mapping)
        self._checked.add(pod["id"])
        return mapping

    def ensure(self, pod):
        """After a sandbox restart, bring back the container of a pod that should be running."""
        if pod["id"] in self._checked:
            return
        self._checked.add(pod["id"])
        state = podman.run("ps", "-a", "--filter", "name=^%s$" % container_name(pod["id"]),
                           "--format", "{{.State}}").strip()
        if state == "running":
            return
        if state:
            podman.run("start", container_name(pod["id"]))
            podman.pin_bridge_address()
            return
        self._run(pod, pod["publicPorts"])

    def stop(self, pod):
        self._checked.discard(pod["id"])
        podman.run("rm", "-f", "-t", "2", "--ignore", container_name(pod["id"]))

    def remove(self, pod):
        self.stop(pod)
        podman.run("volume", "rm", "-f", volume_disk_name(pod["id"]), check=False)

    def remove_network_volume(self, volume_id):
        podman.run("volume", "rm", "-f", network_volume_name(volume_id), check=False)

    def close(self):
        """Containers outlive the API process (as pods outlive a console session)."""

    # ------------------------------------------------------------ helpers
    def _run(self, pod, mapping):
        """Start the pod's container with ``mapping`` ({"22/tcp": host port}) published on ``public_ip``."""
        gpu = catalogue.gpu_type(pod["gpuTypeId"]) or {}
        env = {item["key"]: item["value"] for item in pod.get("env") or []}
        env.update({
            "RUNPOD_POD_ID": pod["id"],
            "RUNPOD_PUBLIC_IP": self.public_ip,
            "RUNPOD_GPU_COUNT": str(pod["gpuCount"]),
            "RUNPOD_DC_ID": pod["dataCenterId"],
            # nvidia-smi prints the full name, e.g. "NVIDIA A40"; a CPU pod has none and no driver.
            "SANDBOX_GPU_NAME": pod["gpuTypeId"] or "",
            "SANDBOX_GPU_MEMORY_MIB": str(int(gpu.get("memoryInGb", 24)) * 1024 - 1000),
            "SANDBOX_CUDA_VERSION": pod.get("cudaVersion") or "12.8",
            "PIP_CERT": POD_CA_BUNDLE,
            "REQUESTS_CA_BUNDLE": POD_CA_BUNDLE,
            "SSL_CERT_FILE": POD_CA_BUNDLE,
        })
        if pod.get("podApiKey"):
            env["RUNPOD_API_KEY"] = pod["podApiKey"]
        if self.api_port:
            env["RUNPOD_API_BASE_URL"] = "http://%s:%d" % (POD_HOST, self.api_port)
        label = "%s=%s" % (podman.LABEL, self.instance)
        args = ["run", "-d", "--name", container_name(pod["id"]), "--hostname", pod["id"],
                "--label", label, "--label", "io.funaudiochat.sandbox.pod=" + pod["id"]]
        for key, public in mapping.items():
            private, _sep, kind = key.partition("/")
            if kind == "tcp":
                env["RUNPOD_TCP_PORT_%s" % private] = str(public)
                args += ["-p", "%s:%d:%s/tcp" % (self.public_ip, public, private)]
        for key in env:
            args += ["-e", key]  # the value comes from podman's environment, never its command line
        if os.path.exists(HOST_CA_BUNDLE):
            args += ["-v", "%s:/etc/runpod-sandbox/host-ca-bundle.crt:ro" % HOST_CA_BUNDLE]
        mount = self._volume(pod, label)
        if mount:
            args += ["-v", "%s:%s" % (mount, pod["volumeMountPath"])]
        podman.run("rm", "-f", "-t", "0", "--ignore", container_name(pod["id"]))
        podman.run(*args, self.image_for(pod), *start_command(pod.get("dockerArgs")), env=env)
        podman.pin_bridge_address()  # the bridge is made with the first container: pinned before others join

    @staticmethod
    def _volume(pod, label):
        if pod.get("networkVolumeId"):
            name = network_volume_name(pod["networkVolumeId"])
        elif pod.get("volumeInGb"):
            name = volume_disk_name(pod["id"])
        else:
            return None
        if not podman.run("volume", "ls", "-q", "--filter", "name=^%s$" % name).strip():
            podman.run("volume", "create", "--label", label, name)
        return name
