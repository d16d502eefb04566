"""``python -m tests.sandbox.runpod_api``: serve the sandbox RunPod API until killed."""

import argparse
import asyncio
import os
import signal
import socket
import sys

from aiohttp import web

from .backends import MemoryBackend
from .server import make_app
from .world import World


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.runpod_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state", default=None, help="JSON file the account is kept in")
    parser.add_argument("--api-key", default=os.environ.get("SANDBOX_RUNPOD_API_KEY", "sandbox-key"))
    parser.add_argument("--backend", choices=("memory", "podman"), default="memory",
                        help="memory: pods are records; podman: pods are containers reached over SSH")
    parser.add_argument("--instance", default=None,
                        help="podman backend: label value marking this sandbox's containers")
    parser.add_argument("--boot-seconds", type=float, default=None)
    parser.add_argument("--no-ssh-banner", action="store_true",
                        help="memory backend: do not answer pods' SSH ports")
    return parser.parse_args(argv)


def make_backend(args):
    if args.backend == "podman":
        from .podman_backend import PodmanBackend  # pylint: disable=import-outside-toplevel
        return PodmanBackend(args.instance or "sandbox-%d" % os.getpid())
    return MemoryBackend(ssh_banner=not args.no_ssh_banner)


async def serve(args):
    world = World(args.state, make_backend(args))
    if args.boot_seconds is not None:
        world.config["boot_seconds"] = args.boot_seconds
    app = make_app(world, args.api_key)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    site = web.SockSite(runner, sock)
    await site.start()
    host, port = sock.getsockname()[:2]
    print(f"RUNPOD_API_BASE_URL=http://{host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv=None):
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
