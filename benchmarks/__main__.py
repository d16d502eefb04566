"""``python -m benchmarks [name ...]``: run the benchmarks and print their ratios (all but download_real by default)."""

import sys

from benchmarks import (api_get_pods, deploy, download, fanout, fleet, front_door, inventory, podman_pods, prefetch,
                        roles, self_healing)

BENCHMARKS = {
    "api_get_pods": api_get_pods.main,
    "inventory": inventory.main,
    "fanout": fanout.main,
    "podman_pods": podman_pods.main,
    "roles": roles.main,
    "deploy": deploy.main,
    "download": download.main,
    "front_door": front_door.main,
    "fleet": fleet.main,
    "self_healing": self_healing.main,
    "prefetch": prefetch.main,
    "download_real": download.real_main,
}
# Run only when named: ~19 GB written to a sandbox pod's volume.
BY_NAME_ONLY = ("download_real",)


def main(argv):
    names = argv or [name for name in BENCHMARKS if name not in BY_NAME_ONLY]
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
