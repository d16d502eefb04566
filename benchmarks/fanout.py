"""Create-and-wait for N pods in one play vs. one pod, against the sandbox with a boot delay.

Each pod is one inventory host running ``funaudiochat.runpod.pod`` on the
controller (forks = N), which is how a fleet is created in one play.
Target: 20 pods take <= 2x the time of one.
"""

import os
import sys

import yaml

from benchmarks._common import BIN, sandbox, timed

BOOT_SECONDS = 8
PLAY = [{
    "name": "Fan-out create",
    "hosts": "pods",
    "gather_facts": False,
    "tasks": [{
        "name": "Create and wait",
        "funaudiochat.runpod.pod": {
            "name": "{{ inventory_hostname }}",
            "gpu": ["A40", "L40S"],
            "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
            "ports": ["22/tcp", "8002/tcp"],
            "wait_timeout": 120,
        },
    }],
}]


def _inventory(path, count):
    hosts = {"bench-%02d" % index: None for index in range(count)}
    data = {"pods": {"hosts": hosts, "vars": {"ansible_connection": "local",
                                              "ansible_python_interpreter": sys.executable}}}
    with open(path, "w") as handle:
        yaml.safe_dump(data, handle)


def main(counts=(1, 20)):
    with sandbox() as (api, tmp):
        api.configure(boot_seconds=BOOT_SECONDS)
        playbook = os.path.join(tmp, "fanout.yml")
        with open(playbook, "w") as handle:
            yaml.safe_dump(PLAY, handle)
        times = {}
        for count in counts:
            api.reset()
            api.configure(boot_seconds=BOOT_SECONDS)
            inventory = os.path.join(tmp, "hosts-%d.yml" % count)
            _inventory(inventory, count)
            times[count] = timed([os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook,
                                  "-f", str(max(count, 5))], runs=1)
            assert len(api.pods()) == count
        base = times[counts[0]]
        print("boot delay %ds" % BOOT_SECONDS)
        for count in counts:
            print("%3d pod(s): %6.1f s  ratio %.2f" % (count, times[count], times[count] / base))
        print("target: %d pods <= 2x one pod" % counts[-1])


if __name__ == "__main__":
    main()
