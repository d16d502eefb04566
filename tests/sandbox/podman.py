"""The one place the sandbox runs the ``podman`` CLI (with the project's containers.conf)."""

import functools
import json
import os
import shutil
import subprocess

CONTAINERS_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "containers.conf")

# Every container and volume the sandbox makes carries this label; the value
# names the sandbox instance, so one sandbox never touches another's pods.
LABEL = "io.funaudiochat.sandbox"


class PodmanError(RuntimeError):
    """A podman command failed; the message carries its stderr."""


def environment(extra=None):
    env = dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF)
    env.update(extra or {})
    return env


def available():
    return shutil.which("podman") is not None


def run(*args, check=True, timeout=300, env=None):
    """Run ``podman ARGS`` and return its stdout (text).

    ``env`` adds variables to podman's own environment: ``-e NAME`` (no value)
    hands them to a container without putting their values on a command line.
    """
    _require()
    proc = subprocess.run(["podman", *args], env=environment(env), capture_output=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise PodmanError("podman %s: %s" % (args[0], err[-1] if err else "exit %d" % proc.returncode))
    return proc.stdout.decode(errors="replace")


@functools.lru_cache(maxsize=None)
def bridge_name(network="podman"):
    """The Linux bridge that podman's ``network`` attaches its containers to (``podman0`` for the default)."""
    return run("network", "inspect", network, "--format", "{{.NetworkInterface}}").strip()


def bridge_file(attribute, network="podman"):
    """One of the bridge's sysfs attributes (``address``, ``addr_assign_type``), as text."""
    with open("/sys/class/net/%s/%s" % (bridge_name(network), attribute), encoding="ascii") as handle:
        return handle.read().strip()


def pin_bridge_address(network="podman"):
    """Keep the bridge of podman's ``network`` on one MAC address while containers come and go.

    A Linux bridge whose address was never set takes the lowest address among its ports
    (net/bridge/br_stp_if.c, br_stp_recalculate_bridge_id: "user has chosen a value so keep it"
    only once it was set), so it changes whenever a container whose veth sorts lowest joins or
    leaves. The other containers keep the old address for their gateway in their ARP cache, and
    their packets to this machine are lost until it expires: every connection between the tests
    and every pod stalls for up to a minute (SSH and websocket timeouts under a parallel run).
    Setting the address, to the one it has, makes the kernel keep it (addr_assign_type 3,
    NET_ADDR_SET in include/linux/netdevice.h). RunPod's pods share no such bridge: this is the
    sandbox's own. Harmless when the bridge is pinned already or cannot be (not root: nothing done).
    """
    try:
        if bridge_file("addr_assign_type", network) == "3":
            return
        address = bridge_file("address", network)
    except (PodmanError, OSError):
        return
    ip = shutil.which("ip") or "/usr/sbin/ip"
    subprocess.run([ip, "link", "set", "dev", bridge_name(network), "address", address], capture_output=True, check=False)


def image_exists(tag):
    _require()
    return subprocess.run(["podman", "image", "exists", tag], env=environment(), check=False,
                          capture_output=True).returncode == 0


def _require():
    if not available():
        raise PodmanError("podman is not installed: run `make system-deps` (apt-get install podman runc)")


def remove_labelled(instance=None, prefix=None):
    """Remove sandbox containers and volumes: one instance's, those whose instance starts with ``prefix``, or all."""
    selector = "label=%s=%s" % (LABEL, instance) if instance else "label=" + LABEL
    names = [c["Names"][0] for c in _listed("ps", "-a", "--filter", selector, "--format", "json")
             if _owned(c.get("Labels"), prefix)]
    if names:
        run("rm", "-f", "-t", "0", *names)
    volume_names = [v["Name"] for v in _listed("volume", "ls", "--filter", selector, "--format", "json")
                    if _owned(v.get("Labels"), prefix)]
    if volume_names:
        run("volume", "rm", "-f", *volume_names)
    return names, volume_names


def _listed(*args):
    return json.loads(run(*args) or "[]") or []


def _owned(labels, prefix):
    return prefix is None or (labels or {}).get(LABEL, "").startswith(prefix)
