"""RunPod's HTTPS proxy for sandbox pods: ``https://<pod id>-<port>.proxy.runpod.net`` to a port the pod
declares ``<port>/http`` (docs.runpod.io/pods/configuration/expose-ports).

As RunPod's, it terminates TLS, forwards plain HTTP (and websockets: the bytes after the request head go both
ways unchanged) to the pod's port, answers for running pods and declared ``/http`` ports only, and ends a
connection idle for 100 s (RunPod's docs: the proxy, behind Cloudflare, times out after 100 s without
traffic). It reaches a pod's container at its address on podman's network, as RunPod's proxy reaches the pod
over RunPod's own network; such ports are never public.

A browser reaches it by name with ``--host-resolver-rules="MAP *.proxy.runpod.net 127.0.0.1:<port>"``; its
certificate is self-signed for ``*.proxy.runpod.net`` (written to ``--cert-dir``), so the browser is told to
accept it (``--ignore-certificate-errors``). The page is then an HTTPS page: a secure context, as on RunPod.
"""

import argparse
import asyncio
import datetime
import json
import os
import re
import signal
import ssl
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from . import podman
from .runpod_api.podman_backend import container_name

DOMAIN = "proxy.runpod.net"
HOST = re.compile(r"^([a-z0-9]+)-([0-9]+)\." + re.escape(DOMAIN) + r"(?::[0-9]+)?$")
IDLE_SECONDS = 100
HEAD_LIMIT = 64 * 1024


def certificate(cert_dir):
    """(cert file, key file) for *.proxy.runpod.net, made once."""
    cert_file, key_file = os.path.join(cert_dir, "proxy.crt"), os.path.join(cert_dir, "proxy.key")
    if os.path.exists(cert_file) and os.path.exists(key_file):
        return cert_file, key_file
    os.makedirs(cert_dir, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*." + DOMAIN)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("*." + DOMAIN)]), critical=False)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with open(cert_file, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_file, key_file


class Proxy:
    def __init__(self, api_url):
        self.api_url = api_url.rstrip("/")

    def _pod(self, pod_id):
        with urllib.request.urlopen(self.api_url + "/_sandbox/state", timeout=10) as response:
            return (json.load(response).get("state", {}).get("pods") or {}).get(pod_id)

    @staticmethod
    def _declared(pod, port):
        return any(spec.strip().lower() == "%d/http" % port for spec in (pod.get("ports") or "").split(","))

    def target(self, host):
        """(address, port) of a running pod's declared http port, or (None, why)."""
        match = HOST.match(host or "")
        if not match:
            return None, "no such host"
        pod_id, port = match.group(1), int(match.group(2))
        pod = self._pod(pod_id)
        if not pod or pod.get("desiredStatus") != "RUNNING":
            return None, "pod %s is not running" % pod_id
        if not self._declared(pod, port):
            return None, "pod %s does not declare %d/http" % (pod_id, port)
        address = podman.run("inspect", "-f", "{{.NetworkSettings.IPAddress}}", container_name(pod_id),
                             check=False).strip()
        return (address, port) if address else (None, "pod %s has no container" % pod_id)

    async def handle(self, reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_SECONDS)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        if lines[0].startswith("GET /_sandbox/health "):
            await self._answer(writer, 200, "ok")
            return
        host = next((line.split(":", 1)[1].strip().lower() for line in lines[1:] if line.lower().startswith("host:")), "")
        address, port = await asyncio.get_running_loop().run_in_executor(None, self.target, host)
        if address is None:
            await self._answer(writer, 502 if "no such host" not in port else 404, "RunPod proxy: %s" % port)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(asyncio.open_connection(address, port), 10)
        except (OSError, asyncio.TimeoutError) as exc:
            await self._answer(writer, 502, "RunPod proxy: the pod's port %d does not answer (%s)" % (port, exc))
            return
        upstream_writer.write(head)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    @staticmethod
    async def _answer(writer, status, text):
        body = text.encode()
        writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % (status, b"OK" if status == 200 else b"Bad Gateway" if status == 502 else b"Not Found",
                        len(body)) + body)
        try:
            await writer.drain()
        finally:
            writer.close()


async def _pipe(reader, writer):
    """Copy one way until either side ends or nothing passes for IDLE_SECONDS."""
    try:
        while True:
            data = await asyncio.wait_for(reader.read(65536), IDLE_SECONDS)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _serve(args):
    cert_file, key_file = certificate(args.cert_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    proxy = Proxy(args.api)
    server = await asyncio.start_server(proxy.handle, args.host, args.port, ssl=context, limit=HEAD_LIMIT)
    port = server.sockets[0].getsockname()[1]
    print("SANDBOX_PROXY=https://127.0.0.1:%d" % port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()


def main(argv=None):
    """Serve RunPod's HTTPS proxy for the sandbox's pods; prints SANDBOX_PROXY=<url>."""
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.https_proxy", description=main.__doc__)
    parser.add_argument("--api", required=True, help="the sandbox API's URL (its /_sandbox/state names the pods)")
    parser.add_argument("--cert-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(_serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
