# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod_table filter: pods (from pod_info) and server probes as the lines of one table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.funaudiochat.runpod.plugins.module_utils._table import money, render

COLUMNS = ("POD", "ID", "STATUS", "GPU", "USD/H", "USD SINCE START", "SSH", "WEBSOCKET", "SERVER", "IDLE", "STOPS AT",
           "FRONT DOOR")


def _server(pod, probes, port):
    if pod.get("status") != "RUNNING":
        return "-"
    probe = probes.get(pod.get("id"))
    if probe is None:
        return "no port %s" % port if str(port) not in (pod.get("ports") or {}) else "not asked"
    if probe.get("handshake_seconds") is not None and not probe.get("failed"):
        return "up"
    return "down: %s" % (probe.get("msg") or "no handshake").split(";")[0][:60]


def _minutes(seconds):
    seconds = max(0, int(seconds))
    return "%d min" % (seconds // 60) if seconds < 6000 else "%.1f h" % (seconds / 3600.0)


# The watcher writes its state at least every 15 s (its state_seconds); silent for longer than this, it is taken
# as not running.
SILENT_SECONDS = 120


def _unguarded(state, now):
    """Why nothing on a running pod stops it (its watcher's state as status.yml read it), or None."""
    if not isinstance(state, dict) or state.get("unreachable"):
        return None  # not read: unknown, shown as such
    if "updated_at" not in state:
        return "no idle-stop watcher on the pod"
    silent = now - float(state["updated_at"])
    if silent > SILENT_SECONDS:
        return "its idle-stop watcher has been silent for %s" % _minutes(silent)
    return None


def unguarded_pods(pods, idle=None, now=None):
    """The running pods nothing on them stops: "<name> (<id>): why", for status.yml's warning."""
    now = time.time() if now is None else float(now)
    found = []
    for pod in pods or []:
        why = _unguarded((idle or {}).get(pod.get("id")), now) if pod.get("status") == "RUNNING" else None
        if why:
            found.append("%s (%s): %s" % (pod.get("name") or "-", pod.get("id"), why))
    return found


def _idle(pod, states, now):
    """IDLE and STOPS AT from the pod's idle-stop watcher (its state file, read over SSH by status.yml)."""
    if pod.get("status") != "RUNNING":
        return "-", "-"
    state = states.get(pod.get("id"))
    if isinstance(state, dict) and state.get("unreachable"):
        return "-", "unreachable over SSH"
    why = _unguarded(state, now)
    if why:
        return "-", "UNGUARDED: " + why
    if not isinstance(state, dict):
        return "-", "-"
    # "held": provision.yml works on the pod, and its SSH connections count as sessions meanwhile.
    idle = (("Ansible run" if state.get("held") else "in use") if state.get("sessions")
            else _minutes(now - float(state.get("last_session_at") or now)))
    if state.get("last_error"):
        return idle, "stop failed: %s" % str(state["last_error"])[:60]
    if not state.get("stops_at"):
        return idle, "never (idle stop off)"
    stops_at = float(state["stops_at"])
    return idle, "%s (in %s)" % (time.strftime("%H:%M UTC", time.gmtime(stops_at)), _minutes(stops_at - now))


def front_door_pods(pods, front_door_port=8010):
    """The running pods whose front door users reach: a fleet's first by name (provision.yml puts it there),
    and each pod in no fleet that publishes the front door's port."""
    running = sorted((pod for pod in pods or [] if pod.get("status") == "RUNNING" and pod.get("public_ip")),
                     key=lambda pod: pod.get("name") or "")
    firsts = {}
    for pod in running:
        firsts.setdefault(pod.get("fleet"), pod)
    return [pod for pod in running if str(front_door_port) in (pod.get("ports") or {})
            and (pod.get("fleet") is None or firsts[pod.get("fleet")] is pod)]


def _front_door(pod, doors, ip, ports, door):
    if pod.get("fleet") is not None and pod.get("fleet") in doors and doors[pod["fleet"]] is not pod:
        return "via %s" % doors[pod["fleet"]].get("name")
    return "ws://%s:%s/api/chat" % (ip, ports[door]) if ip and door in ports else "-"


def pod_table(pods, probes=None, server_port=8002, front_door_port=8010, idle=None, now=None):
    """Lines of a table: a header, then one row per pod (name, id, status, GPU, cost, SSH, URL, server, idle stop,
    front door). ``idle`` maps pod ids to their idle-stop watcher's state."""
    port, door = str(server_port), str(front_door_port)
    now = time.time() if now is None else float(now)
    results = probes.get("results", []) if isinstance(probes, dict) else probes or []
    by_id = dict((result["item"]["id"], result) for result in results
                 if (result.get("item") or {}).get("id") and not result.get("skipped"))
    doors = dict((pod.get("fleet"), pod) for pod in front_door_pods(pods, door) if pod.get("fleet") is not None)
    rows = [COLUMNS]
    for pod in pods or []:
        ports = pod.get("ports") or {}
        ip = pod.get("public_ip")
        gpu = "%s x%s" % (pod.get("gpu"), pod.get("gpu_count")) if (pod.get("gpu_count") or 1) > 1 else pod.get("gpu")
        cost = pod.get("cost_per_hr")
        running = pod.get("status") == "RUNNING" and cost is not None
        rows.append((
            pod.get("name") or "-", pod.get("id") or "-", pod.get("status") or "-", gpu or "-",
            money(cost),
            money(float(cost) * float(pod.get("uptime_seconds") or 0) / 3600.0) if running else "-",
            "root@%s -p %s" % (pod["ssh_host"], pod["ssh_port"]) if pod.get("ssh_host") else "-",
            "ws://%s:%s/api/chat" % (ip, ports[port]) if ip and port in ports else "-",
            _server(pod, by_id, port))
            + _idle(pod, idle or {}, now)
            + (_front_door(pod, doors, ip, ports, door),))
    return render(rows)


class FilterModule(object):
    def filters(self):
        return {"pod_table": pod_table, "front_door_pods": front_door_pods, "unguarded_pods": unguarded_pods}
