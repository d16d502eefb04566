"""Stops this pod through RunPod's API when nobody has talked to it for a while (and after a hard cap).

Run by supervisord on the pod (the server role's idle-stop program), with its settings in a JSON file
given as the only argument: idle_stop_minutes (0: no idle stop), max_hours (0: no cap), port_files
(JSON files naming the ports sessions come in on: the servers' servers.json), door_sockets (the front door's
HAProxy admin socket), state_file (what status.yml reads), hold_file and ssh_ports (below) and poll_seconds.

A session is a conversation someone was let in for: an inbound TCP connection to a server's port that is open
at two polls in a row, a second apart by default (the servers listen on loopback: only the front door, which
asks every request for its key, or a login on the pod reaches them), or a conversation in progress or queued
at the pod's front door (HAProxy's "show stat": the servers backend's scur, queued ones included, which may be on other pods
of a fleet). A bare connection to the front door's public port, a scan or a refused request never counts. The
front door's health checks are TCP connects of a few milliseconds: never seen twice. SSH logins do
not count (a status check or a forgotten shell would keep the pod), except while an Ansible run works on the
pod: provision.yml writes hold_file at its start and removes it at its end, and while it is there, inbound SSH
connections (ssh_ports, sshd's 22 in RunPod's images) count as sessions too, so a long install or download is
not stopped under the run. A run that died leaves the file, but its connections close (ssh's ControlPersist,
60 s by default), and the clock runs again. The idle clock starts at the watcher's start (every container
start, from the boot script) and restarts at every session.

The pod stops itself with its own RUNPOD_API_KEY (RunPod puts a pod-scoped key in every pod; what it
may do is not documented): RunPod's GraphQL podStop first, then runpodctl as RunPod's docs show it
(``runpodctl pod stop $RUNPOD_POD_ID``, older releases ``runpodctl stop pod $RUNPOD_POD_ID``). Every
attempt and its outcome is logged; when all fail, the state file says why and the watcher tries again
every retry_minutes.
"""

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ESTABLISHED = "01"  # the st column of /proc/net/tcp (include/net/tcp_states.h)


def log(message):
    sys.stdout.write("%s idle-stop: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), message))
    sys.stdout.flush()


def watched_ports(port_files):
    """The ports named in the port files: servers.json entries' "port", ports.json's "ports"."""
    ports = set()
    for path in port_files:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            ports.update(int(port) for port in data.get("ports", []))
        elif isinstance(data, list):
            ports.update(int(item["port"]) for item in data if isinstance(item, dict) and "port" in item)
    return ports


def connections(ports):
    """The established connections whose local port is one of ``ports``: {(local, remote)}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4 or fields[3] != ESTABLISHED:
                continue
            local, remote = fields[1], fields[2]
            if int(local.rsplit(":", 1)[1], 16) in ports:
                found.add((local, remote))
    return found


def door_conversations(sockets):
    """Conversations the front door holds or queues (its servers backend's scur, which counts the queued ones
    too); 0 without a door.

    HAProxy's admin socket, "show stat" (https://docs.haproxy.org/2.4/management.html, section 9.1). A door
    that does not answer counts as none: the watcher must keep watching whatever HAProxy does.
    """
    total = 0
    for path in sockets:
        if not os.path.exists(path):
            continue
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2)
                sock.connect(path)
                sock.sendall(b"show stat\n")
                chunks = []
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            for row in csv.DictReader(b"".join(chunks).decode("utf-8", "replace").lstrip("# ").splitlines()):
                if row.get("pxname") == "servers" and row.get("svname") == "BACKEND":
                    total += int(row.get("scur") or 0)
        except (OSError, ValueError):
            continue
    return total


def pod_age_seconds():
    """Seconds since the container's first process started (the pod's start), from /proc."""
    try:
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        with open("/proc/1/stat", encoding="ascii") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def stop_through_graphql(pod_id, key):
    """RunPod's podStop mutation with the pod's own key; None when it worked, else why not."""
    base = os.environ.get("RUNPOD_API_BASE_URL", "https://api.runpod.io").rstrip("/")
    query = 'mutation { podStop(input: {podId: "%s"}) { id desiredStatus } }' % pod_id
    request = urllib.request.Request(base + "/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        return "GraphQL podStop: HTTP %d %s" % (exc.code, exc.read(300).decode("utf-8", "replace").strip())
    except (OSError, ValueError) as exc:
        return "GraphQL podStop: %s" % exc
    if body.get("errors"):
        return "GraphQL podStop: %s" % "; ".join(str(item.get("message")) for item in body["errors"])
    return None


def stop_through_runpodctl(pod_id):
    """runpodctl, new syntax then old; None when one worked, else why not."""
    problems = []
    for args in (["runpodctl", "pod", "stop", pod_id], ["runpodctl", "stop", "pod", pod_id]):
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append("%s: %s" % (" ".join(args[:3]), exc))
            continue
        if proc.returncode == 0:
            return None
        problems.append("%s: exit %d %s" % (" ".join(args[:3]), proc.returncode,
                                            (proc.stderr or proc.stdout).strip()[:200]))
    return "; ".join(problems)


def stop_pod():
    """Stop this pod; None when RunPod took the stop, else what every way answered."""
    pod_id, key = os.environ.get("RUNPOD_POD_ID"), os.environ.get("RUNPOD_API_KEY")
    if not pod_id:
        return "RUNPOD_POD_ID is not set: this does not look like a RunPod pod"
    problems = []
    if key:
        problem = stop_through_graphql(pod_id, key)
        if problem is None:
            return None
        problems.append(problem)
    else:
        problems.append("RUNPOD_API_KEY is not set in the pod")
    problem = stop_through_runpodctl(pod_id)
    if problem is None:
        return None
    problems.append(problem)
    return "; ".join(problems)


def write_state(path, state):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(tmp, path)


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        config = json.load(handle)
    idle_limit = float(config.get("idle_stop_minutes", 0)) * 60
    cap = float(config.get("max_hours", 0)) * 3600
    poll = float(config.get("poll_seconds", 1))
    write_every = float(config.get("state_seconds", 15))
    retry = float(config.get("retry_minutes", 5)) * 60
    state_file = config["state_file"]
    hold_file = config.get("hold_file")
    ssh_ports = set(int(port) for port in config.get("ssh_ports", [22]))
    held = False
    started = time.time()
    age = pod_age_seconds()
    pod_started = started - age if age is not None else started
    last_session = started
    seen = set()
    next_try = 0.0
    written = 0.0
    active = False
    last_error = None
    log("watching (idle stop after %s min without a session, hard cap %s h; 0 = off)"
        % (config.get("idle_stop_minutes", 0), config.get("max_hours", 0)))
    while True:
        now = time.time()
        ports = watched_ports(config.get("port_files", []))
        if bool(hold_file and os.path.exists(hold_file)) != held:
            held = not held
            log("an Ansible run works on the pod: its SSH connections count as sessions" if held
                else "the Ansible run is over: SSH connections no longer count")
        if held:
            ports |= ssh_ports
        current = connections(ports)
        sessions = current & seen  # open at two polls in a row
        seen = current
        session_ports = sorted(set(int(local.rsplit(":", 1)[1], 16) for local, _remote in sessions))
        at_door = door_conversations(config.get("door_sockets", []))
        if (sessions or at_door) and not active:
            log("%d session(s) open, on port(s) %s; %d conversation(s) at the front door"
                % (len(sessions), ", ".join(str(port) for port in session_ports) or "none", at_door))
        elif active and not (sessions or at_door):
            log("no session open; the pod stops at %s unless one opens"
                % (time.strftime("%H:%M:%SZ", time.gmtime(now + idle_limit)) if idle_limit else "its max_hours cap"))
        active = bool(sessions or at_door)
        if active:
            last_session = now
        stops = [when for when in (last_session + idle_limit if idle_limit else None,
                                   pod_started + cap if cap else None) if when is not None]
        stops_at = min(stops) if stops else None
        state = {
            "pod_started_at": round(pod_started), "last_session_at": round(last_session),
            "idle_seconds": round(now - last_session), "sessions": len(sessions), "session_ports": session_ports, "held": held,
            "door_conversations": at_door,
            "idle_stop_minutes": config.get("idle_stop_minutes", 0), "max_hours": config.get("max_hours", 0),
            "stops_at": round(stops_at) if stops_at else None, "updated_at": round(now), "last_error": last_error,
        }
        if stops_at is not None and now >= stops_at and now >= next_try:
            reason = ("no session for %d min" % ((now - last_session) // 60)
                      if idle_limit and now >= last_session + idle_limit
                      else "up for %.1f h, the max_hours cap" % ((now - pod_started) / 3600))
            log("%s: stopping pod %s through RunPod's API" % (reason, os.environ.get("RUNPOD_POD_ID", "?")))
            last_error = stop_pod()
            next_try = now + retry
            state.update(last_error=last_error, stopping=last_error is None, reason=reason)
            if last_error is None:
                log("RunPod took the stop; the volume stays, and the server comes back by itself on resume")
            else:
                log("could not stop the pod: %s. Stop it yourself (console or runpodctl), or set "
                    "idle_stop_minutes: 0; trying again in %d min" % (last_error, retry // 60))
        if active or now - written >= write_every or "reason" in state:
            write_state(state_file, state)
            written = now
        time.sleep(poll)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
