#!/usr/bin/env python
# Copyright: contributors to funaudiochat.runpod
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Serve the built web client to the front door, on 127.0.0.1 only.

HAProxy cannot serve a directory, so the front door sends every request that is not for /api/ here. The
root is a symlink to the current build (front_door role); it is resolved at each request, so a new build
is served from the next request on, without a restart. Unknown paths answer the client's index.html, as a
single-page app expects; files under assets/ are named by their build and may be cached.
"""

import argparse
import http.server
import os
import sys

# The types a browser insists on: module scripts and workers need a JavaScript type, and
# WebAssembly.instantiateStreaming needs application/wasm (Python's own table lacks it before 3.12's).
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json",
         ".svg": "image/svg+xml", ".css": "text/css", ".html": "text/html; charset=utf-8"}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES)

    def __init__(self, *args, root, **kwargs):
        super().__init__(*args, directory=os.path.realpath(root), **kwargs)

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path) or not os.path.exists(path):
            self.path = "/index.html"  # the app's own routes, and the directory itself
        return super().send_head()

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache" if self.path.endswith(".html") else "max-age=300")
        super().end_headers()

    def list_directory(self, path):
        self.send_error(404)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the built client (a directory, or a symlink to one)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv[1:])

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def finish_request(self, request, client_address):
            # The root is resolved again for each connection: a new build behind the symlink is live at once.
            Handler(request, client_address, self, root=args.root)

    server = Server((args.host, args.port), Handler)
    print("serving %s on http://%s:%d" % (args.root, args.host, args.port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
