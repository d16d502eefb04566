"""Run one of the sandbox's aiohttp servers until SIGINT/SIGTERM (RunPod API, model hub, app repo, wheels)."""

import asyncio
import signal
import socket

from aiohttp import web

from .link import add_admin_routes, start_relay


async def _serve(make_app, host, port, url_var, url_path, link, on_listening):
    app = make_app()
    if link is not None:
        add_admin_routes(app, link)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Behind a link, the app listens on loopback only and the relay takes the public address.
    sock.bind(("127.0.0.1", 0) if link is not None else (host, port))
    await web.SockSite(runner, sock).start()
    public_port = sock.getsockname()[1]
    relay = None
    if link is not None:
        relay = await start_relay(link, host, port, public_port)
        public_port = relay.sockets[0].getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # what a client on this machine dials
    if on_listening is not None:
        on_listening(app, public_port)
    print("%s=http://%s:%d%s" % (url_var, shown, public_port, url_path), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    if relay is not None:
        relay.close()
    await runner.cleanup()


def serve(make_app, host, port, url_var, url_path="", link=None, on_listening=None):
    """Serve ``make_app()`` (called inside the event loop) on host:port (0 picks a free port).

    Prints ``URL_VAR=http://HOST:PORT<url_path>`` once listening: the line
    tests.sandbox.control and tests.sandbox.stack wait for. With a
    ``link.Link``, clients reach the app through it (tests.sandbox.link).
    ``on_listening(app, port)`` is called once the port is known.
    """
    asyncio.run(_serve(make_app, host, port, url_var, url_path, link, on_listening))
