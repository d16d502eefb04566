"""The front_door filters: which address the front door uses for each pod's servers, and how it reaches the other
pods' own front doors."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.funaudiochat.runpod.plugins.filter.front_door import (
    front_door_backends, front_door_remote_doors, front_door_server_prefix)

LAYOUT = [{"program": "funaudiochat", "port": 8002}, {"program": "funaudiochat-2", "port": 8003}]


def test_the_front_doors_own_pod_is_reached_over_loopback():
    assert front_door_backends(LAYOUT, "fac-1") == [
        {"name": "fac-1.funaudiochat", "address": "127.0.0.1:8002"},
        {"name": "fac-1.funaudiochat-2", "address": "127.0.0.1:8003"}]


def test_another_pods_servers_go_through_the_listener_for_its_own_front_door():
    backends = front_door_backends(LAYOUT, "fac-2", 8101)
    assert backends == [{"name": "fac-2.funaudiochat", "address": "127.0.0.1:8101", "door": "fac-2"},
                        {"name": "fac-2.funaudiochat-2", "address": "127.0.0.1:8101", "door": "fac-2"}]


def test_the_other_pods_doors_are_named_by_runpods_proxy_never_by_an_ip():
    doors = front_door_remote_doors({"fac-2": "abc123", "fac 3": "def456"}, 8000, 8100)
    assert doors == [
        {"name": "fac-2", "pod": "fac-2", "port": 8100, "host": "abc123-8000.proxy.runpod.net",
         "address": "abc123-8000.proxy.runpod.net:443"},
        {"name": "fac 3", "pod": "fac_3", "port": 8101, "host": "def456-8000.proxy.runpod.net",
         "address": "def456-8000.proxy.runpod.net:443"}]
    # A proxy reached at another address (the sandbox's) keeps the name for TLS and the Host header.
    assert front_door_remote_doors([{"name": "fac-2", "id": "abc123"}], 8000, 8100, "proxy.runpod.net",
                                   "host.containers.internal:4443")[0]["address"] == "host.containers.internal:4443"


@pytest.mark.parametrize("pod", [{"name": "fac-2"}, {"name": "fac-2", "id": None}, {"name": "fac-2", "id": "a.b"}])
def test_a_pod_without_a_runpod_id_is_one_clear_error(pod):
    with pytest.raises(AnsibleFilterError, match="front_door_remote_doors: .*(needs a name and an id|no RunPod id)"):
        front_door_remote_doors([pod])


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
