"""``python -m tests.sandbox.model_hub``: serve the stand-in model repos until killed.

Prints ``HF_ENDPOINT=http://127.0.0.1:PORT`` once listening.
"""

import argparse
import os
import sys

from ..link import add_link_arguments, link_from_args
from ..serving import serve
from .repos import PROFILES, stand_in_repos
from .server import make_app


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.model_hub", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1",
                        help="0.0.0.0 lets sandbox pods reach it as host.containers.internal")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--scale", type=int, default=1, help="multiply the small profile's big files' sizes")
    parser.add_argument("--profile", choices=PROFILES, default="small",
                        help="real: the real repositories' file layout and sizes (~19 GB; digests cached on disk)")
    parser.add_argument("--gated", action="store_true",
                        help="require the token in SANDBOX_HF_TOKEN (Authorization: Bearer) for every repo")
    parser.add_argument("--cdn-redirect", action="store_true",
                        help="LFS files answer 302 to another host (localhost), as huggingface.co's CDN redirects")
    add_link_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    token = os.environ.get("SANDBOX_HF_TOKEN") if args.gated else None
    if args.gated and not token:
        raise SystemExit("--gated needs SANDBOX_HF_TOKEN in the environment")
    repos = stand_in_repos(args.scale, args.profile)  # before the URL line: digests may take a while once
    serve(lambda: make_app(repos, token, args.cdn_redirect), args.host, args.port, "HF_ENDPOINT", link=link_from_args(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
