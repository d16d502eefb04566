# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The volume's one-writer lock: one pod at a time installs or downloads onto a shared volume.

RunPod documents no locking on network volumes and warns that writers on several pods at once may corrupt
data (docs.runpod.io/storage/network-volumes), so the lock lives on the volume itself: a directory made with
mkdir, which only one pod can make. Run with the image's Python (no Ansible module: one call per try).

    volume_lock.py take    --dir D --owner POD_ID --label NAME [--stale S] [--lease S]
    volume_lock.py release --dir D --owner POD_ID

``take`` tries once and prints JSON: ``held`` true (this pod has it now: it was free, stale, or already
its own), or false with who holds it. While it is held, a small process on the holder's pod counts a
heartbeat every HEARTBEAT seconds. It holds the lock while the run that took it lives: as long as an
inbound SSH connection (``--alive-port``, sshd's 22) is open on the pod, and ``lease`` seconds after the
last one closed (a run that died, or was interrupted, frees the lock that long after its connections
ended; an install that goes on for hours keeps it). A waiter keeps what it saw in /tmp and calls the lock
stale when that count has not moved for ``stale`` seconds of its own clock (so the pods' clocks need not
agree): a holder pod that was stopped, terminated or crashed frees it within ``stale``. Of several waiters
that find it stale at once, one breaks it (an atomic mkdir of a marker named after the stale holder).
``release`` removes the lock if this pod holds it, and says so when another pod took it meanwhile
(``lost``): the caller fails, as what it wrote may be mixed with the other pod's. A lock that cannot be
removed is an error (exit status 1).
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import sys
import time
import uuid

HEARTBEAT = 10.0


def read(path, default=None):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default


def write(path, data):
    tmp = "%s.%s.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def heartbeat_count(lock):
    return (read(os.path.join(lock, "heartbeat.json"), {}) or {}).get("count")


ESTABLISHED = "01"  # the st column of /proc/net/tcp (include/net/tcp_states.h)


def connected(ports):
    """Whether an established TCP connection has its local end on one of ``ports`` (an inbound SSH session)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == ESTABLISHED and int(fields[1].rsplit(":", 1)[1], 16) in ports:
                return True
    return False


def hold(lock, token, lease, alive_ports):
    """The holder: count heartbeats until released or taken over, while the run lives (an inbound SSH connection
    on ``alive_ports``) and ``lease`` seconds after it was last seen; then free the lock."""
    ends = time.monotonic() + lease
    count = 0
    while True:
        owner = read(os.path.join(lock, "owner.json"))
        if not owner or owner.get("token") != token:
            return
        if connected(alive_ports):
            ends = time.monotonic() + lease
        elif time.monotonic() > ends:
            shutil.rmtree(lock, ignore_errors=True)
            return
        count += 1
        write(os.path.join(lock, "heartbeat.json"), {"count": count, "token": token})
        time.sleep(HEARTBEAT)


def start_holder(lock, token, lease, alive_ports):
    """Fork the holder off, detached from the SSH session that ran ``take``."""
    child = os.fork()
    if child > 0:
        os.waitpid(child, 0)
        return
    os.setsid()
    if os.fork() > 0:
        os._exit(0)  # pylint: disable=protected-access
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        hold(lock, token, lease, alive_ports)
    finally:
        os._exit(0)  # pylint: disable=protected-access


def stale(lock, owner, seen_path, stale_seconds):
    """True when the holder's heartbeat has not moved for ``stale_seconds`` of this pod's clock."""
    seen = read(seen_path, {}) or {}
    count = heartbeat_count(lock)
    now = time.monotonic()
    if seen.get("token") != owner.get("token") or seen.get("count") != count or seen.get("boot") != boot_id():
        write(seen_path, {"token": owner.get("token"), "count": count, "since": now, "boot": boot_id()})
        return False
    return now - seen["since"] >= stale_seconds


def boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def break_stale(lock, owner):
    """Break a stale lock; True for the one waiter that did it (or found it gone), False for the others.

    The marker's mkdir is atomic: of the waiters that found this holder stale at once, one makes it. The winner
    moves the lock aside (a rename, atomic too) only while it is still that holder's, so a fresh lock another
    waiter took meanwhile is never broken."""
    try:
        os.mkdir(os.path.join(lock, "breaking-" + str(owner.get("token"))))
    except FileNotFoundError:
        return True  # gone already: try to take it
    except FileExistsError:
        return False  # another waiter breaks it
    current = read(os.path.join(lock, "owner.json"))
    if not current or current.get("token") != owner.get("token"):
        shutil.rmtree(os.path.join(lock, "breaking-" + str(owner.get("token"))), ignore_errors=True)
        return False
    aside = "%s.broken-%s" % (lock, uuid.uuid4().hex)
    os.rename(lock, aside)
    remove(aside)
    return True


def remove(path):
    """Remove a lock moved aside; a heartbeat written into it meanwhile can make one try fail."""
    for _attempt in range(3):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return
        time.sleep(0.2)
    shutil.rmtree(path)


def take(args):
    lock = args.dir
    os.makedirs(os.path.dirname(lock) or ".", exist_ok=True)
    # What this waiter saw of the holder, by lock and waiter (each pod has its own /tmp).
    seen_path = "/tmp/funaudiochat-volume-lock-%s.json" % hashlib.sha256(
        ("%s\0%s" % (lock, args.owner)).encode("utf-8")).hexdigest()[:16]
    token = uuid.uuid4().hex
    mine = {"owner": args.owner, "label": args.label, "token": token, "taken_at": time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for _attempt in range(5):
        try:
            answer = try_take(args, lock, seen_path, token, mine)
        except FileNotFoundError:
            continue  # the lock went away under this try (another waiter broke or released it): try again
        if answer is not None:
            return answer
    return {"held": False, "owner": "?", "label": "?", "since": "contended"}


def try_take(args, lock, seen_path, token, mine):
    """One try at the lock: the answer, or None to try again at once."""
    try:
        os.mkdir(lock)
    except FileExistsError:
        owner = read(os.path.join(lock, "owner.json"))
        if owner is None:
            # Made a moment ago and not written yet, or left half-made: give it one heartbeat's time.
            if time.time() - os.stat(lock).st_mtime < 2 * HEARTBEAT:
                return {"held": False, "owner": "?", "label": "?", "since": "just now"}
            shutil.rmtree(lock, ignore_errors=True)
            return None
        if owner.get("owner") == args.owner:
            # This pod's own lock (an earlier run here that failed or was cut short): take it over.
            write(os.path.join(lock, "owner.json"), mine)
            start_holder(lock, token, args.lease, args.alive_port)
            return {"held": True, "taken_over": "own", "previous_since": owner.get("taken_at")}
        if stale(lock, owner, seen_path, args.stale):
            # Its holder stopped counting (pod stopped, gone or crashed): break it, then try again.
            if not break_stale(lock, owner):
                return {"held": False, "owner": owner.get("owner"), "label": owner.get("label"),
                        "since": owner.get("taken_at"), "breaking": True}
            return None
        return {"held": False, "owner": owner.get("owner"), "label": owner.get("label"),
                "since": owner.get("taken_at")}
    write(os.path.join(lock, "owner.json"), mine)
    start_holder(lock, token, args.lease, args.alive_port)
    return {"held": True, "taken_over": None}


def release(args):
    """Free this pod's lock. ``lost``: another pod holds it now (this one's lapsed or was broken meanwhile)."""
    owner = read(os.path.join(args.dir, "owner.json"))
    if owner and owner.get("owner") == args.owner:
        # The rename frees the lock at once and atomically; the holder's last heartbeat may still land in what
        # was moved aside, so removing that is retried. An error here is the caller's failure.
        aside = "%s.released-%s" % (args.dir, uuid.uuid4().hex)
        os.rename(args.dir, aside)
        remove(aside)
        return {"released": True}
    if owner:
        return {"released": False, "lost": True, "owner": owner.get("owner"), "label": owner.get("label"),
                "since": owner.get("taken_at")}
    return {"released": False}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["take", "release"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--stale", type=float, default=60.0)
    parser.add_argument("--lease", type=float, default=600.0)
    parser.add_argument("--alive-port", type=int, action="append", default=None)
    args = parser.parse_args(argv)
    args.alive_port = set(args.alive_port or [22])
    result = take(args) if args.action == "take" else release(args)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
