"""The front_door_backends filter: which address the front door uses for each pod's servers."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.funaudiochat.runpod.plugins.filter.front_door import (
    front_door_backends, front_door_server_prefix)

LAYOUT = [{"program": "funaudiochat", "port": 8002}, {"program": "funaudiochat-2", "port": 8003}]


def test_the_front_doors_own_pod_is_reached_over_loopback():
    assert front_door_backends(LAYOUT, "fac-1") == [
        {"name": "fac-1.funaudiochat", "address": "127.0.0.1:8002"},
        {"name": "fac-1.funaudiochat-2", "address": "127.0.0.1:8003"}]


def test_another_pod_is_reached_through_its_public_ports_and_an_unpublished_server_is_left_out():
    # RunPod maps each published container port to a public port of its own; 8003 was not published.
    backends = front_door_backends(LAYOUT, "fac-2", "203.0.113.7", {"22": 40100, "8002": 40101})
    assert backends == [{"name": "fac-2.funaudiochat", "address": "203.0.113.7:40101"}]


def test_names_keep_to_what_haproxy_allows():
    assert front_door_backends(LAYOUT[:1], "my pod/1")[0]["name"] == "my_pod_1.funaudiochat"


@pytest.mark.parametrize("layout", [{"program": "x"}, [{"port": 8002}], [{"program": "x", "port": "eight"}]])
def test_a_broken_layout_is_one_clear_error(layout):
    with pytest.raises(AnsibleFilterError, match="front_door_backends"):
        front_door_backends(layout, "fac-1")


def test_a_pods_prefix_picks_its_servers_and_no_other_pods():
    names = [b["name"] for b in front_door_backends(LAYOUT, "fac-1") + front_door_backends(LAYOUT, "fac-10")]
    assert [n for n in names if n.startswith(front_door_server_prefix("fac-1"))] == [
        "fac-1.funaudiochat", "fac-1.funaudiochat-2"]
