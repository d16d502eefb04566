"""A static file server for the sandbox (git's plain HTTP protocol needs nothing more)."""

from aiohttp import web

from .serving import serve


async def _health(_request):
    return web.json_response({"ok": True})


def make_app(directory):
    app = web.Application()
    app.router.add_get("/_sandbox/health", _health)
    app.router.add_static("/", directory, show_index=False, follow_symlinks=False)
    return app


def serve_directory(directory, host, port, url_var, url_path=""):
    """Serve ``directory`` until SIGTERM; print ``URL_VAR=http://127.0.0.1:PORT<url_path>`` once listening."""
    serve(lambda: make_app(directory), host, port, url_var, url_path)
