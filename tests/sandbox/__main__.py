"""``python -m tests.sandbox up|env|down|image|clean``: the offline RunPod world in the background.

  up      build the pod image if needed, start the RunPod API (pods are containers)
          the model hub and the app's git repo (harmless when up)
  env     print `export` lines for a shell: eval "$(python -m tests.sandbox env)"
  down    stop the sandbox and remove every pod container and volume it made
  image   build (or find) the pod image and print its tag
  clean   remove the containers and volumes of every sandbox, running or not
          (--prefix pytest- only those of test sessions)
"""

import argparse
import shlex
import sys

from . import podman
from .pod_image import ensure_images
from .stack import SandboxStack


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "env", "down", "image", "clean"))
    parser.add_argument("--state-dir", default=None, help="default: tests/sandbox/state")
    parser.add_argument("--boot-seconds", type=float, default=None,
                        help="up: seconds before a new pod's container starts")
    parser.add_argument("--link-rate", default=None,
                        help="up: bytes/s per connection pods download at from the hub, app repo and wheels (e.g. 20MB)")
    parser.add_argument("--link-total", default=None, help="up: bytes/s over all connections to each of them")
    parser.add_argument("--link-latency-ms", default=None, help="up: one-way delay on those links")
    parser.add_argument("--hub-profile", choices=("small", "real"), default=None,
                        help="up: real serves the models at their real sizes (~19 GB, generated on the fly)")
    parser.add_argument("--prefix", default=None,
                        help="clean: only sandboxes whose instance name starts with this")
    args = parser.parse_args(argv)
    stack = SandboxStack(args.state_dir)
    try:
        if args.command == "up":
            link = {name: value for name, value in (("rate", args.link_rate), ("total", args.link_total),
                                                    ("latency_ms", args.link_latency_ms)) if value is not None}
            info = stack.up(boot_seconds=args.boot_seconds, link=link, hub_profile=args.hub_profile)
            print("sandbox up: RunPod API at %s, model hub at %s, app repo at %s, pod images %s"
                  % (info["api"]["url"], info["hub"]["url"], info["repo"]["url"],
                     ", ".join(info["images"].values())))
        elif args.command == "env":
            for key, value in stack.env().items():
                print("export %s=%s" % (key, shlex.quote(value)))
        elif args.command == "down":
            containers, volumes = stack.down()
            print("sandbox down: removed %d container(s), %d volume(s)" % (len(containers), len(volumes)))
        elif args.command == "image":
            for variant, tag in ensure_images().items():
                print("%s %s" % (variant, tag))
        else:
            containers, volumes = podman.remove_labelled(prefix=args.prefix)
            print("removed %d container(s), %d volume(s)" % (len(containers), len(volumes)))
    except (RuntimeError, OSError) as exc:
        print("python -m tests.sandbox %s: %s" % (args.command, exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
