"""The pod_table filter: status.yml's table, with each pod's server and front door URLs."""

import time

from ansible_collections.funaudiochat.runpod.plugins.filter.pod_table import front_door_pods, pod_table, unguarded_pods

POD = {"name": "fac-1", "id": "abc123", "status": "RUNNING", "gpu": "A40", "gpu_count": 1, "cost_per_hr": 0.44,
       "public_ip": "203.0.113.10", "ssh_host": "203.0.113.10", "ssh_port": 40122,
       "ports": {"22": 40122, "8002": 40123, "8010": 40124}}


def test_a_row_shows_the_server_and_the_front_door_urls():
    probes = {"results": [{"item": {"id": "abc123"}, "handshake_seconds": 0.01}]}
    header, row = pod_table([POD], probes)
    assert header.split() == ["POD", "ID", "STATUS", "GPU", "USD/H", "USD", "SINCE", "START", "SSH", "WEBSOCKET",
                              "SERVER", "IDLE", "STOPS", "AT", "FRONT", "DOOR"]
    assert "ws://203.0.113.10:40123/api/chat" in row and " up " in row
    assert row.rstrip().endswith("ws://203.0.113.10:40124/api/chat")


def test_a_pod_without_a_front_door_shows_a_dash():
    pod = dict(POD, ports={"22": 40122, "8002": 40123})
    row = pod_table([pod], None)[1]
    assert row.rstrip().endswith("-") and "ws://203.0.113.10:40123/api/chat" in row


def test_a_fleets_front_door_is_on_its_first_running_pod_and_the_others_point_to_it():
    first = dict(POD, name="fac-1", id="p1", fleet="fac")
    second = dict(POD, name="fac-2", id="p2", fleet="fac", ports={"22": 40130, "8002": 40131, "8010": 40132})
    stopped = dict(POD, name="fac-0", id="p0", fleet="fac", status="EXITED")
    alone = dict(POD, name="demo", id="p9", fleet=None, ports={"22": 40140, "8002": 40141, "8010": 40142})
    assert [pod["name"] for pod in front_door_pods([second, alone, stopped, first])] == ["demo", "fac-1"]
    rows = dict((row.split()[0], row.rstrip()) for row in pod_table([second, first, alone], None)[1:])
    assert rows["fac-1"].endswith("ws://203.0.113.10:40124/api/chat")
    assert rows["fac-2"].endswith("via fac-1")
    assert rows["demo"].endswith("ws://203.0.113.10:40142/api/chat")


NOW = 1796320000.0


def cells(row, header):
    """A row's cells by column, cut where the header's columns start."""
    names = ("POD", "ID ", "STATUS", "GPU", "USD/H", "USD SINCE START", "SSH", "WEBSOCKET", "SERVER", "IDLE",
             "STOPS AT", "FRONT DOOR")
    starts = [header.index(name) for name in names]
    ends = starts[1:] + [len(row)]
    return [row[start:end].strip() for start, end in zip(starts, ends)]


def table(pod, state):
    header, row = pod_table([pod], None, 8002, 8010, {pod["id"]: state} if state is not None else None, NOW)
    return dict(zip(("pod", "id", "status", "gpu", "usd_h", "usd_since", "ssh", "ws", "server", "idle", "stops",
                     "door"), cells(row, header)))


def test_the_cost_since_the_pod_started_and_its_idle_stop():
    pod = dict(POD, uptime_seconds=5400)
    row = table(pod, {"updated_at": NOW - 10, "last_session_at": NOW - 720, "sessions": 0,
                      "stops_at": NOW + 2880, "last_error": None})
    assert row["usd_h"] == "0.44" and row["usd_since"] == "0.66"  # 1.5 h at 0.44 USD/h
    stops_at = time.strftime("%H:%M UTC", time.gmtime(NOW + 2880))
    assert row["idle"] == "12 min" and row["stops"] == "%s (in 48 min)" % stops_at


def test_a_pod_in_use_one_that_cannot_stop_itself_and_one_without_a_watcher():
    busy = table(POD, {"updated_at": NOW, "last_session_at": NOW, "sessions": 1, "stops_at": NOW + 3600})
    assert busy["idle"] == "in use"
    provisioning = table(POD, {"updated_at": NOW, "last_session_at": NOW, "sessions": 1, "held": True,
                               "stops_at": NOW + 3600})
    assert provisioning["idle"] == "Ansible run"
    left_by_a_dead_run = table(POD, {"updated_at": NOW, "last_session_at": NOW - 120, "sessions": 0, "held": True,
                                     "stops_at": NOW + 3480})
    assert left_by_a_dead_run["idle"] == "2 min"
    off = table(POD, {"updated_at": NOW, "last_session_at": NOW - 60, "sessions": 0, "stops_at": None})
    assert off["stops"] == "never (idle stop off)"
    failing = table(POD, {"updated_at": NOW, "last_session_at": NOW - 4000, "sessions": 0, "stops_at": NOW - 400,
                          "last_error": "GraphQL podStop: HTTP 403 Forbidden"})
    assert failing["stops"] == "stop failed: GraphQL podStop: HTTP 403 Forbidden"
    assert table(POD, {})["stops"] == "UNGUARDED: no idle-stop watcher on the pod"
    assert table(POD, {"unreachable": True})["stops"] == "unreachable over SSH"
    stopped = table(dict(POD, status="EXITED"), {"updated_at": NOW})
    assert stopped["usd_since"] == stopped["idle"] == stopped["stops"] == "-"


def test_a_running_pod_whose_watcher_is_gone_or_silent_is_unguarded_and_named():
    silent = {"updated_at": NOW - 600, "last_session_at": NOW - 900, "sessions": 0, "stops_at": NOW - 300}
    assert table(POD, silent)["stops"] == "UNGUARDED: its idle-stop watcher has been silent for 10 min"
    watched = {"updated_at": NOW - 20, "last_session_at": NOW - 900, "sessions": 0, "stops_at": NOW + 300}
    stopped = dict(POD, name="fac-0", id="p0", status="EXITED")
    bare = dict(POD, name="fac-2", id="p2")
    unread = dict(POD, name="fac-3", id="p3")
    states = {"abc123": watched, "p0": {}, "p2": {}, "p3": {"unreachable": True}}
    assert unguarded_pods([POD, stopped, bare, unread], states, NOW) == ["fac-2 (p2): no idle-stop watcher on the pod"]
    states["abc123"] = silent
    assert unguarded_pods([POD], states, NOW) == ["fac-1 (abc123): its idle-stop watcher has been silent for 10 min"]
