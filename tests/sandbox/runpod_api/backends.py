"""Where sandbox pods live.

The API process keeps the records; a backend gives a running pod its public
ports. ``MemoryBackend`` keeps no containers: it hands out port numbers and,
unless told otherwise, answers each pod's SSH port with a real SSH banner so
``wait``-for-SSH code paths run for real. The podman backend (real containers)
implements the same four methods.
"""

import asyncio
import itertools
import socket

SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 runpod-sandbox\r\n"


class MemoryBackend:
    """Pods as records: fake port numbers, plus a banner listener on port 22."""

    name = "memory"
    public_ip = "127.0.0.1"

    def __init__(self, ssh_banner=True):
        self.ssh_banner = ssh_banner
        self._listeners = {}  # pod id -> (socket, asyncio server task)
        self._fake_ports = itertools.count(30000)

    def start(self, pod):
        """Give a pod that just became ready its public port mapping."""
        mapping = {}
        for spec in port_specs(pod.get("ports")):
            private, kind = spec
            if private == 22 and kind == "tcp" and self.ssh_banner:
                mapping[f"{private}/{kind}"] = self._listen(pod["id"])
            else:
                mapping[f"{private}/{kind}"] = next(self._fake_ports)
        return mapping

    def ensure(self, pod):
        """Re-open a running pod's banner listener after a sandbox restart."""
        key = "22/tcp"
        port = (pod.get("publicPorts") or {}).get(key)
        if port and self.ssh_banner and pod["id"] not in self._listeners:
            pod["publicPorts"][key] = self._listen(pod["id"], port)

    def stop(self, pod):
        self._close(pod["id"])

    def remove(self, pod):
        self._close(pod["id"])

    def remove_network_volume(self, volume_id):
        """Network volumes are records only here."""

    def close(self):
        for pod_id in list(self._listeners):
            self._close(pod_id)

    def _listen(self, pod_id, port=0):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sock.setblocking(False)
        task = asyncio.ensure_future(asyncio.start_server(_banner, sock=sock))
        self._listeners[pod_id] = (sock, task)
        return sock.getsockname()[1]

    def _close(self, pod_id):
        entry = self._listeners.pop(pod_id, None)
        if entry is None:
            return
        sock, task = entry
        if task.done() and not task.cancelled() and task.exception() is None:
            task.result().close()
        else:
            task.cancel()
        sock.close()


async def _banner(reader, writer):
    try:
        writer.write(SSH_BANNER)
        await writer.drain()
        await asyncio.wait_for(reader.readline(), timeout=5)
    except (OSError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()


def port_specs(ports):
    """Parse RunPod's ``"22/tcp,8002/http"`` into ``[(22, "tcp"), (8002, "http")]``."""
    specs = []
    for item in (ports or "").split(","):
        item = item.strip()
        if not item:
            continue
        number, _sep, kind = item.partition("/")
        specs.append((int(number), kind or "tcp"))
    return specs
