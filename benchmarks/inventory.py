"""``ansible-inventory --list`` over N sandbox pods vs. the same hosts from a static YAML file.

The static file holds exactly the hosts and variables the plugin produced, so
the ratio is the plugin's own cost (API call, parsing, hostvars, groups).
Also the cached plugin run next to the uncached one. Target: <= 1.5x static at 1,000 pods.
"""

import json
import os

import yaml

from benchmarks._common import BIN, ansible_env, sandbox, timed
from tests.helpers import unwrap_unsafe

COUNTS = (100, 1000, 10000)


def _static_from(listing):
    hostvars = listing["_meta"]["hostvars"]
    groups = {}
    for name, group in listing.items():
        if name in ("_meta", "all", "ungrouped"):
            continue
        groups[name] = {"hosts": {host: None for host in group.get("hosts", [])}}
    groups.setdefault("runpod", {"hosts": {}})
    for host, hvars in hostvars.items():
        groups["runpod"]["hosts"][host] = hvars
    return {"all": {"children": groups}}


def main(counts=COUNTS):
    import subprocess  # pylint: disable=import-outside-toplevel
    with sandbox("--no-ssh-banner") as (api, tmp):
        config = os.path.join(tmp, "bench.runpod.yml")
        cache_dir = os.path.join(tmp, "cache")
        with open(config, "w") as handle:
            yaml.safe_dump({"plugin": "funaudiochat.runpod.pods"}, handle)
        cached_config = os.path.join(tmp, "cached.runpod.yml")
        with open(cached_config, "w") as handle:
            yaml.safe_dump({"plugin": "funaudiochat.runpod.pods", "cache": True,
                            "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": cache_dir,
                            "cache_timeout": 3600}, handle)
        inventory_cmd = os.path.join(BIN, "ansible-inventory")
        print("%7s %10s %10s %8s %10s %8s" % ("pods", "plugin s", "static s", "ratio", "cached s", "ratio"))
        total = 0
        for count in counts:
            api.bulk_pods(count - total, prefix="fac-")
            total = count
            listing = subprocess.run([inventory_cmd, "-i", config, "--list"], capture_output=True, text=True,
                                     env=ansible_env(), check=True).stdout
            static = os.path.join(tmp, "static-%d.yml" % count)
            with open(static, "w") as handle:
                yaml.safe_dump(_static_from(unwrap_unsafe(json.loads(listing))), handle)
            runs = 3 if count <= 1000 else 1
            plugin_s = timed([inventory_cmd, "-i", config, "--list"], runs)
            static_s = timed([inventory_cmd, "-i", static, "--list"], runs)
            timed([inventory_cmd, "-i", cached_config, "--list", "--flush-cache"], 1)
            cached_s = timed([inventory_cmd, "-i", cached_config, "--list"], runs)
            row = (count, plugin_s, static_s, plugin_s / static_s, cached_s, cached_s / plugin_s)
            print("%7d %10.2f %10.2f %8.2f %10.2f %8.2f" % row)
        print("ratio = plugin / static (target <= 1.5 at 1,000 pods); last ratio = cached / uncached plugin")


if __name__ == "__main__":
    main()
