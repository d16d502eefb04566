"""``python -m tests.sandbox.runpod_api``: serve the sandbox RunPod API until killed."""

import argparse
import os
import sys

from ..serving import serve
from .backends import MemoryBackend
from .server import WORLD, make_app
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


def build_app(args):
    world = World(args.state, make_backend(args))
    if args.boot_seconds is not None:
        world.config["boot_seconds"] = args.boot_seconds
    return make_app(world, args.api_key)


def _tell_backend(app, port):
    """Pods call the API too (their own key, runpodctl): the backend hands them its port."""
    listening = getattr(app[WORLD].backend, "listening", None)
    if listening is not None:
        listening(port)


def main(argv=None):
    args = parse_args(argv)
    serve(lambda: build_app(args), args.host, args.port, "RUNPOD_API_BASE_URL", on_listening=_tell_backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
