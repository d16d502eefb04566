"""How long one pod listing takes for 100, 1,000 and 10,000 sandbox pods.

Two clients side by side: the plain SDK (``runpod.get_pods()``, which parses
the answer twice) and the collection's ``_client.Client.list_pods()`` (one
parse, extra fields). This is the floor later inventory benchmarks compare with.
"""

import os
import statistics
import sys
import tempfile
import time

from tests.sandbox.control import SandboxAPI

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".collections"))


def _best_of(fn, runs=3):
    times = []
    for _run in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def main():
    import runpod  # pylint: disable=import-outside-toplevel
    from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client  # pylint: disable=import-outside-toplevel

    with tempfile.TemporaryDirectory() as tmp, SandboxAPI(os.path.join(tmp, "state.json"),
                                                          extra_args=["--no-ssh-banner"]) as api:
        os.environ.update(api.env())
        runpod.api_key = api.api_key
        client = _client.Client(api.api_key)
        total = 0
        print("%8s %12s %12s %14s" % ("pods", "sdk best s", "client best s", "client/sdk"))
        for count in (100, 1000, 10000):
            api.bulk_pods(count - total)
            total = count
            sdk_best, _median, pods = _best_of(runpod.get_pods)
            assert len(pods) == count
            client_best, _median, pods = _best_of(client.list_pods)
            assert len(pods) == count
            print("%8d %12.3f %12.3f %14.2f" % (count, sdk_best, client_best, client_best / sdk_best))
        print("target: 10,000 pods under 1 s")


if __name__ == "__main__":
    main()
