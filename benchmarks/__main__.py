"""``python -m benchmarks [name ...]``: run the benchmarks and print their ratios."""

import sys

from benchmarks import api_get_pods, deploy, fanout, inventory, podman_pods, roles

BENCHMARKS = {
    "api_get_pods": api_get_pods.main,
    "inventory": inventory.main,
    "fanout": fanout.main,
    "podman_pods": podman_pods.main,
    "roles": roles.main,
    "deploy": deploy.main,
}


def main(argv):
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print("unknown benchmark(s): %s; choose from %s" % (", ".join(unknown), ", ".join(BENCHMARKS)))
        return 2
    for name in names:
        print("== %s" % name)
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
