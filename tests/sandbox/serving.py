"""Run one of the sandbox's aiohttp servers until SIGINT/SIGTERM (RunPod API, model hub, app repo)."""

import asyncio
import signal
import socket

from aiohttp import web


async def _serve(make_app, host, port, url_var, url_path):
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    await web.SockSite(runner, sock).start()
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # what a client on this machine dials
    print("%s=http://%s:%d%s" % (url_var, shown, sock.getsockname()[1], url_path), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def serve(make_app, host, port, url_var, url_path=""):
    """Serve ``make_app()`` (called inside the event loop) on host:port (0 picks a free port).

    Prints ``URL_VAR=http://HOST:PORT<url_path>`` once listening: the line
    tests.sandbox.control and tests.sandbox.stack wait for.
    """
    asyncio.run(_serve(make_app, host, port, url_var, url_path))
