"""``python -m tests.sandbox.model_hub``: serve the stand-in model repos until killed.

Prints ``HF_ENDPOINT=http://127.0.0.1:PORT`` once listening.
"""

import argparse
import os
import sys

from ..serving import serve
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


def main(argv=None):
    args = parse_args(argv)
    token = os.environ.get("SANDBOX_HF_TOKEN") if args.gated else None
    if args.gated and not token:
        raise SystemExit("--gated needs SANDBOX_HF_TOKEN in the environment")
    serve(lambda: make_app(stand_in_repos(args.scale), token), args.host, args.port, "HF_ENDPOINT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
