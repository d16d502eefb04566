"""``python -m tests.sandbox.model_hub``: serve the stand-in model repos until killed.

Prints ``HF_ENDPOINT=http://127.0.0.1:PORT`` once listening.
"""

import argparse
import asyncio
import os
import signal
import socket
import sys

from aiohttp import web

from .repos import stand_in_repos
from .server import make_app


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.model_hub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1",
                        help="0.0.0.0 lets sandbox pods reach it as host.containers.internal")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--scale", type=int, default=1, help="multiply the big files' sizes")
    parser.add_argument("--gated", action="store_true",
                        help="require the token in SANDBOX_HF_TOKEN (Authorization: Bearer) for every repo")
    return parser.parse_args(argv)


async def serve(args):
    token = os.environ.get("SANDBOX_HF_TOKEN") if args.gated else None
    if args.gated and not token:
        raise SystemExit("--gated needs SANDBOX_HF_TOKEN in the environment")
    runner = web.AppRunner(make_app(stand_in_repos(args.scale), token), access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    await web.SockSite(runner, sock).start()
    print("HF_ENDPOINT=http://127.0.0.1:%d" % sock.getsockname()[1], flush=True)
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
