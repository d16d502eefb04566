"""The volume's one-writer lock (roles/models/files/volume_lock.py), as pods sharing a volume use it.

Each "pod" here is a run of the script with its own owner id, as a pod runs it over SSH; the lock's
directory is shared as a network volume is. What the roles rely on: one holder at a time, the same pod
takes its own lock back, a holder that stopped counting its heartbeat is broken after ``stale`` seconds
(not before), a live holder keeps it, release frees it, and the lease ends a forgotten lock.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "models", "files", "volume_lock.py")


def lock(action, lock_dir, owner, *extra):
    proc = subprocess.run([sys.executable, SCRIPT, action, "--dir", str(lock_dir), "--owner", owner,
                           "--label", "pod-" + owner, *extra], capture_output=True, text=True, timeout=30, check=True)
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
    assert lock("release", lock_dir, "podB") == {"released": False}, "only the holder releases"
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


def test_the_lease_ends_a_forgotten_lock(lock_dir):
    assert lock("take", lock_dir, "podA", "--lease", "1")["held"] is True
    started = time.monotonic()
    while lock_dir.exists():
        time.sleep(0.5)
        assert time.monotonic() - started < 30, "the holder freed the lock once its lease ended"
    assert holder_pids(lock_dir) == []
