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

It must not stay dead while the pod bills: an answer from RunPod that is not what was asked, a full or
read-only volume (where the state file is), a vanished port file, any error in one poll is logged and the
next poll goes on; supervisord restarts the process itself forever, with backoff (the server role's
program).
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
        if isinstance(data, dict) and isinstance(data.get("ports"), list):
            found = data["ports"]
        elif isinstance(data, list):
            found = [item["port"] for item in data if isinstance(item, dict) and "port" in item]
        else:
            continue
        ports.update(int(port) for port in found if str(port).isdigit())
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
    if not isinstance(body, dict):
        return "GraphQL podStop: RunPod answered %s, not a GraphQL answer" % json.dumps(body)[:100]
    if body.get("errors"):
        errors = body["errors"] if isinstance(body["errors"], list) else [body["errors"]]
        return "GraphQL podStop: %s" % "; ".join(
            str(item.get("message") if isinstance(item, dict) else item) for item in errors)
    if not isinstance(body.get("data"), dict) or not body["data"].get("podStop"):
        return "GraphQL podStop: RunPod's answer has no podStop: %s" % json.dumps(body)[:100]
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


class Watcher:
    """The watcher's clock and what it last saw; ``step`` is one poll."""

    def __init__(self, config):
        self.config = config
        self.idle_limit = float(config.get("idle_stop_minutes", 0)) * 60
        self.cap = float(config.get("max_hours", 0)) * 3600
        self.write_every = float(config.get("state_seconds", 15))
        self.retry = float(config.get("retry_minutes", 5)) * 60
        self.state_file = config["state_file"]
        self.hold_file = config.get("hold_file")
        self.ssh_ports = set(int(port) for port in config.get("ssh_ports", [22]))
        self.held = False
        started = time.time()
        age = pod_age_seconds()
        self.pod_started = started - age if age is not None else started
        self.last_session = started
        self.seen = set()
        self.next_try = 0.0
        self.written = 0.0
        self.active = False
        self.last_error = None
        self.write_problem = None

    def step(self, now):
        config = self.config
        ports = watched_ports(config.get("port_files", []))
        if bool(self.hold_file and os.path.exists(self.hold_file)) != self.held:
            self.held = not self.held
            log("an Ansible run works on the pod: its SSH connections count as sessions" if self.held
                else "the Ansible run is over: SSH connections no longer count")
        if self.held:
            ports |= self.ssh_ports
        current = connections(ports)
        sessions = current & self.seen  # open at two polls in a row
        self.seen = current
        session_ports = sorted(set(int(local.rsplit(":", 1)[1], 16) for local, _remote in sessions))
        at_door = door_conversations(config.get("door_sockets", []))
        if (sessions or at_door) and not self.active:
            log("%d session(s) open, on port(s) %s; %d conversation(s) at the front door"
                % (len(sessions), ", ".join(str(port) for port in session_ports) or "none", at_door))
        elif self.active and not (sessions or at_door):
            log("no session open; the pod stops at %s unless one opens"
                % (time.strftime("%H:%M:%SZ", time.gmtime(now + self.idle_limit)) if self.idle_limit
                   else "its max_hours cap"))
        self.active = bool(sessions or at_door)
        if self.active:
            self.last_session = now
        stops = [when for when in (self.last_session + self.idle_limit if self.idle_limit else None,
                                   self.pod_started + self.cap if self.cap else None) if when is not None]
        stops_at = min(stops) if stops else None
        state = {
            "pod_started_at": round(self.pod_started), "last_session_at": round(self.last_session),
            "idle_seconds": round(now - self.last_session), "sessions": len(sessions), "session_ports": session_ports,
            "held": self.held, "door_conversations": at_door,
            "idle_stop_minutes": config.get("idle_stop_minutes", 0), "max_hours": config.get("max_hours", 0),
            "stops_at": round(stops_at) if stops_at else None, "updated_at": round(now), "last_error": self.last_error,
        }
        if stops_at is not None and now >= stops_at and now >= self.next_try:
            reason = ("no session for %d min" % ((now - self.last_session) // 60)
                      if self.idle_limit and now >= self.last_session + self.idle_limit
                      else "up for %.1f h, the max_hours cap" % ((now - self.pod_started) / 3600))
            log("%s: stopping pod %s through RunPod's API" % (reason, os.environ.get("RUNPOD_POD_ID", "?")))
            self.next_try = now + self.retry  # before asking: whatever happens, RunPod is not asked every poll
            self.last_error = stop_pod()
            state.update(last_error=self.last_error, stopping=self.last_error is None, reason=reason)
            if self.last_error is None:
                log("RunPod took the stop; the volume stays, and the server comes back by itself on resume")
            else:
                log("could not stop the pod: %s. Stop it yourself (console or runpodctl), or set "
                    "idle_stop_minutes: 0; trying again in %d min" % (self.last_error, self.retry // 60))
        if self.active or now - self.written >= self.write_every or "reason" in state:
            self.write(state, now)

    def write(self, state, now):
        """The state file for status.yml; a full or read-only volume is said once, and the watching goes on."""
        try:
            write_state(self.state_file, state)
        except OSError as exc:
            if str(exc) != self.write_problem:
                log("cannot write %s (%s): status.yml shows no state, the idle stop still works" % (self.state_file, exc))
            self.write_problem = str(exc)
            return
        if self.write_problem:
            log("the state file is written again")
        self.write_problem = None
        self.written = now


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        config = json.load(handle)
    poll = float(config.get("poll_seconds", 1))
    watcher = Watcher(config)
    log("watching (idle stop after %s min without a session, hard cap %s h; 0 = off)"
        % (config.get("idle_stop_minutes", 0), config.get("max_hours", 0)))
    problem = None
    while True:
        try:
            watcher.step(time.time())
            problem = None
        except Exception as exc:  # pylint: disable=broad-except
            # Whatever one poll meets, the next one goes on: a watcher that died would leave the pod billing.
            if repr(exc) != problem:
                log("this poll failed (%r); watching on" % exc)
            problem = repr(exc)
        time.sleep(poll)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
