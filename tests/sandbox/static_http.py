"""A static file server for the sandbox (git's plain HTTP protocol needs nothing more)."""

from aiohttp import web

from .link import add_link_arguments, link_from_args
from .serving import serve


async def _health(_request):
    return web.json_response({"ok": True})


def make_app(directory, show_index=False):
    app = web.Application()
    app.router.add_get("/_sandbox/health", _health)
    app.router.add_static("/", directory, show_index=show_index, follow_symlinks=False)
    return app


def serve_directory(directory, host, port, url_var, url_path="", show_index=False, link=None):
    """Serve ``directory`` until SIGTERM; print ``URL_VAR=http://127.0.0.1:PORT<url_path>`` once listening.

    ``show_index`` lists directories as HTML links (what pip's --find-links reads); ``link`` paces the
    clients' connections (tests.sandbox.link).
    """
    serve(lambda: make_app(directory, show_index), host, port, url_var, url_path, link=link)


def main(argv=None):
    """Serve a directory of wheels for pods (pip --find-links); prints SANDBOX_WHEELS=<url>."""
    import argparse  # pylint: disable=import-outside-toplevel
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.static_http", description=main.__doc__)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    add_link_arguments(parser)
    args = parser.parse_args(argv)
    serve_directory(args.dir, args.host, args.port, "SANDBOX_WHEELS", "/", show_index=True, link=link_from_args(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
