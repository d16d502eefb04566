"""A static file server for the sandbox (git's plain HTTP protocol needs nothing more)."""

import asyncio
import signal
import socket

from aiohttp import web


async def _health(_request):
    return web.json_response({"ok": True})


async def _serve(directory, host, port, url_var, url_path):
    app = web.Application()
    app.router.add_get("/_sandbox/health", _health)
    app.router.add_static("/", directory, show_index=False, follow_symlinks=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    await web.SockSite(runner, sock).start()
    print("%s=http://127.0.0.1:%d%s" % (url_var, sock.getsockname()[1], url_path), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def serve(directory, host, port, url_var, url_path=""):
    """Serve ``directory`` until SIGTERM; print ``URL_VAR=http://127.0.0.1:PORT<url_path>`` once listening."""
    asyncio.run(_serve(directory, host, port, url_var, url_path))
