"""The volume's one-writer lock (roles/models/files/volume_lock.py), as pods sharing a volume use it.

Each "pod" here is a run of the script with its own owner id, as a pod runs it over SSH; the lock's
directory is shared as a network volume is. What the roles rely on: one holder at a time, the same pod
takes its own lock back, a holder that stopped counting its heartbeat is broken after ``stale`` seconds
(not before) by one waiter however many find it stale at once, a live holder keeps it, release frees it
(and says when another pod took it meanwhile), the lock is held while the run's SSH connection is open,
and the lease ends a forgotten lock once that connection is gone.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "models", "files", "volume_lock.py")


def lock(action, lock_dir, owner, *extra):
    proc = subprocess.run([sys.executable, SCRIPT, action, "--dir", str(lock_dir), "--owner", owner,
                           "--label", "pod-" + owner, *extra], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, "%s %s by %s failed:\n%s" % (action, lock_dir, owner, proc.stderr)
    return json.loads(proc.stdout)


def holder_pids(lock_dir):
    out = subprocess.run(["pgrep", "-f", "volume_lock.py take --dir %s " % lock_dir], capture_output=True, text=True,
                         check=False).stdout
    return [int(pid) for pid in out.split()]


@pytest.fixture
def lock_dir(tmp_path):
    path = tmp_path / "volume" / ".writer.lock"
    yield path
    for pid in holder_pids(path):
        os.kill(pid, signal.SIGKILL)


def test_one_holder_at_a_time_and_release_frees_it(lock_dir):
    assert lock("take", lock_dir, "podA")["held"] is True
    other = lock("take", lock_dir, "podB")
    assert other == {"held": False, "owner": "podA", "label": "pod-podA", "since": other["since"]}
    refused = lock("release", lock_dir, "podB")
    assert refused["released"] is False and refused["owner"] == "podA", "only the holder releases"
    assert lock("take", lock_dir, "podA")["taken_over"] == "own", "a pod takes its own lock back"
    assert lock("release", lock_dir, "podA") == {"released": True}
    assert not lock_dir.exists()
    assert lock("take", lock_dir, "podB")["held"] is True


def test_a_live_holder_keeps_it_and_a_dead_one_is_broken_after_stale_seconds(lock_dir):
    assert lock("take", lock_dir, "podA")["held"] is True
    # The holder counts its heartbeat every 10 s: over 25 s of tries with stale=12, the count moves and the
    # lock stays podA's.
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:
        assert lock("take", lock_dir, "podB", "--stale", "12")["held"] is False
        time.sleep(2)
    # The holder's pod goes away (its process dies): the count stops.
    for pid in holder_pids(lock_dir):
        os.kill(pid, signal.SIGKILL)
    last_beat = (lock_dir / "heartbeat.json").stat().st_mtime
    while not lock("take", lock_dir, "podB", "--stale", "12")["held"]:
        time.sleep(1)
        assert time.time() - last_beat < 40
    still = time.time() - last_beat
    assert still >= 12, "broken only once its heartbeat was still for `stale` seconds (%.1f s)" % still
    assert json.loads((lock_dir / "owner.json").read_text())["owner"] == "podB"


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_lease_ends_a_forgotten_lock(lock_dir):
    # No connection on the run's port: the run that took it is gone.
    assert lock("take", lock_dir, "podA", "--lease", "1", "--alive-port", str(unused_port()))["held"] is True
    started = time.monotonic()
    while lock_dir.exists():
        time.sleep(0.5)
        assert time.monotonic() - started < 30, "the holder freed the lock once its lease ended"
    assert holder_pids(lock_dir) == []


def heartbeats(lock_dir):
    try:
        return json.loads((lock_dir / "heartbeat.json").read_text())["count"]
    except (OSError, ValueError, KeyError):
        return 0


def test_the_lock_is_held_while_the_runs_connection_is_open_then_the_lease_ends_it(lock_dir):
    # The run's SSH connection to the holder pod, here a connection to a port of this machine.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    accepted, _peer = server.accept()
    try:
        assert lock("take", lock_dir, "podA", "--lease", "1", "--alive-port", str(server.getsockname()[1]))["held"]
        # Three heartbeats (20 s and more), far past the 1 s lease: still held, as the run lives.
        while heartbeats(lock_dir) < 3:
            assert lock_dir.exists(), "the lock lapsed under a run that is alive"
            time.sleep(0.5)
        assert json.loads((lock_dir / "owner.json").read_text())["owner"] == "podA"
    finally:
        client.close()
        accepted.close()
        server.close()
    closed = time.monotonic()
    while lock_dir.exists():
        time.sleep(0.5)
        assert time.monotonic() - closed < 30, "the lease did not end the lock once the run's connection closed"


def test_of_several_waiters_that_find_a_lock_stale_at_once_one_breaks_it(lock_dir):
    waiters = ["pod%d" % index for index in range(12)]
    for _round in range(40):
        assert lock("take", lock_dir, "holder")["held"] is True
        for pid in holder_pids(lock_dir):
            os.kill(pid, signal.SIGKILL)  # the holder's pod is gone: its heartbeat stops
        for waiter in waiters:  # each waiter notes the heartbeat it sees
            assert lock("take", lock_dir, waiter, "--stale", "0")["held"] is False
        with ThreadPoolExecutor(len(waiters)) as pool:
            answers = list(pool.map(lambda waiter: lock("take", lock_dir, waiter, "--stale", "0"), waiters))
        winners = [waiter for waiter, answer in zip(waiters, answers) if answer["held"]]
        assert len(winners) == 1, answers
        assert json.loads((lock_dir / "owner.json").read_text())["owner"] == winners[0]
        for pid in holder_pids(lock_dir):
            os.kill(pid, signal.SIGKILL)
        assert lock("release", lock_dir, winners[0]) == {"released": True}
        assert not [name for name in os.listdir(lock_dir.parent) if ".broken-" in name], "a broken lock left behind"


def test_a_release_after_another_pod_took_the_lock_says_so(lock_dir):
    assert lock("take", lock_dir, "podA")["held"] is True
    for pid in holder_pids(lock_dir):
        os.kill(pid, signal.SIGKILL)
    assert lock("take", lock_dir, "podB", "--stale", "0")["held"] is False
    assert lock("take", lock_dir, "podB", "--stale", "0")["held"] is True
    lost = lock("release", lock_dir, "podA")
    assert lost["released"] is False and lost["lost"] is True and lost["owner"] == "podB", lost
    assert json.loads((lock_dir / "owner.json").read_text())["owner"] == "podB"


def test_a_lock_that_comes_and_goes_under_a_try_gets_an_answer_never_an_error(lock_dir):
    # Four pods take and release as fast as they can: each try finds the lock free, held, half-made or gone
    # between two looks, and must still answer (an error would fail the run that asked).
    def churn(owner):
        taken = 0
        for _round in range(100):
            if lock("take", lock_dir, owner)["held"]:
                taken += 1
                assert lock("release", lock_dir, owner)["released"] is True
        return taken

    with ThreadPoolExecutor(4) as pool:
        taken = list(pool.map(churn, ["podA", "podB", "podC", "podD"]))
    assert all(taken), taken
    assert os.listdir(lock_dir.parent) == [], "a released lock left behind"
