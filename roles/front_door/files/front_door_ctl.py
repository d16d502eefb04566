# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take one pod's servers out of the front door and put them back, over HAProxy's admin socket.

    front_door_ctl.py SOCKET drain PREFIX [--wait SECONDS]
    front_door_ctl.py SOCKET ready PREFIX
    front_door_ctl.py SOCKET status [PREFIX]
    front_door_ctl.py SOCKET trim MAX_SECONDS [--every SECONDS]

PREFIX picks the servers whose name starts with it: ``fac-2.`` for pod fac-2's (the front_door role
names them ``<pod>.<program>``). ``drain`` sends no new session to them and lets open ones go on; with
``--wait`` it waits until those have ended, up to SECONDS. ``ready`` puts them back. Prints one JSON
object: the servers, whether their state changed, the sessions still open on them and the seconds
waited. ``trim`` ends every conversation (a session of the servers backend) older than MAX_SECONDS and
prints the ones it ended; with ``--every`` it does so again every SECONDS, for ever (the front door's
supervisor program for the maximum conversation length: HAProxy's own timeouts are idle timeouts, and the
server's pings keep a conversation from ever being idle). Commands and fields as in HAProxy's management
guide (https://docs.haproxy.org/2.4/management.html: "set server", "show stat" for the open sessions,
"show servers state" for the administrative state, whose flag 0x08 is a drain set from the CLI; a drained
server that is down shows DOWN in "show stat"; "show sess" for each session's age, "shutdown session").
"""

import csv
import json
import re
import socket
import sys
import time

BACKEND = "servers"
DRAIN_FLAG = 0x08  # srv_admin_state: SRV_ADMF_FDRAIN
UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def ask(path, command):
    """One command on the admin socket, its whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks).decode()
            chunks.append(chunk)


def servers(path, prefix):
    """{name: row of show stat} for the backend's servers whose name starts with ``prefix``."""
    rows = csv.DictReader(ask(path, "show stat").lstrip("# ").splitlines())
    return dict((row["svname"], row) for row in rows
                if row["pxname"] == BACKEND and row["svname"] not in ("FRONTEND", "BACKEND")
                and row["svname"].startswith(prefix))


def drained(path):
    """{name: True when drained from the CLI} for the backend's servers."""
    lines = ask(path, "show servers state %s" % BACKEND).splitlines()
    header = next((line.lstrip("# ").split() for line in lines if line.startswith("# ")), [])
    states = {}
    for line in lines:
        fields = line.split()
        if len(fields) == len(header) and not line.startswith("#"):
            row = dict(zip(header, fields))
            states[row["srv_name"]] = bool(int(row["srv_admin_state"]) & DRAIN_FLAG)
    return states


def age_seconds(text):
    """HAProxy's age of a session ("45s", "3m2s", "2h5m", "1d3h") in seconds."""
    return sum(int(value) * UNITS[unit] for value, unit in re.findall(r"(\d+)([dhms])", text))


def trim(path, max_seconds):
    """End the conversations older than ``max_seconds``; [(session, server, age seconds)] of those ended."""
    ended = []
    for line in ask(path, "show sess").splitlines():
        fields = dict(field.split("=", 1) for field in line.split()[1:] if "=" in field)
        if fields.get("be") != BACKEND or age_seconds(fields.get("age", "")) <= max_seconds:
            continue
        session = line.split(":", 1)[0]
        ask(path, "shutdown session %s" % session)
        ended.append((session, fields.get("srv"), age_seconds(fields["age"])))
    return ended


def trim_for_ever(path, max_seconds, every):
    """``trim`` every ``every`` seconds; a front door that is not up (yet) is asked again next time."""
    while True:
        try:
            for session, server, age in trim(path, max_seconds):
                print("ended a conversation on %s after %d s (the longest allowed: %d s)" % (server, age, max_seconds),
                      flush=True)
        except OSError as exc:
            print("front door not answering (%s); trying again in %d s" % (exc, every), flush=True)
        time.sleep(every)


def main(argv):
    if len(argv) >= 3 and argv[1] == "trim":
        if "--every" in argv:
            trim_for_ever(argv[0], float(argv[2]), float(argv[argv.index("--every") + 1]))
        json.dump({"ended": [{"session": s, "server": srv, "age_seconds": age} for s, srv, age in trim(argv[0], float(argv[2]))]},
                  sys.stdout)
        sys.stdout.write("\n")
        return 0
    if len(argv) < 2 or argv[1] not in ("drain", "ready", "status") or (argv[1] != "status" and len(argv) < 3):
        sys.stderr.write(__doc__)
        return 2
    path, action = argv[0], argv[1]
    prefix = argv[2] if len(argv) > 2 else ""
    wait = float(argv[argv.index("--wait") + 1]) if "--wait" in argv else 0.0
    found = servers(path, prefix)
    changed = False
    if action in ("drain", "ready"):
        states = drained(path)
        for name in found:
            if states.get(name, False) != (action == "drain"):
                answer = ask(path, "set server %s/%s state %s" % (BACKEND, name, action)).strip()
                if answer:  # HAProxy answers nothing on success
                    sys.stderr.write("set server %s/%s state %s: %s\n" % (BACKEND, name, action, answer))
                    return 1
                changed = True
    started = time.time()
    sessions = sum(int(row["scur"] or 0) for row in found.values())
    while action == "drain" and sessions and time.time() - started < wait:
        time.sleep(1)
        sessions = sum(int(row["scur"] or 0) for row in servers(path, prefix).values())
    json.dump({"servers": sorted(found), "changed": changed, "sessions": sessions,
               "waited_seconds": round(time.time() - started, 1),
               "status": dict((name, row["status"]) for name, row in sorted(servers(path, prefix).items()))},
              sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
