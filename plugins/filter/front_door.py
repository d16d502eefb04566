# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The front_door filters: a pod's server processes as the front door's HAProxy servers, and their names.

The front door (the front_door role) runs on every pod, locked with the door's key; a fleet's main front door
sends sessions to every pod's servers: its own over loopback, another pod's through that pod's own front door,
which it reaches through RunPod's HTTPS proxy (``https://<pod id>-<port>.proxy.runpod.net``: the pod's name
across stop and resume, where its public IP and ports change) by a listener on its own loopback (door_port).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError


def server_name(pod, program):
    """HAProxy's name for a pod's server program; it allows letters, digits and - _ . : only."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", "%s.%s" % (pod, program))


def front_door_backends(layout, pod, door_port=None):
    """[{name, address[, door]}] for the servers of ``layout`` (entries of the server role's servers.json).

    Without ``door_port`` the servers are on the front door's own pod (127.0.0.1 and their port); with it, they
    are ``pod``'s, reached through the front door's loopback listener for that pod's own front door
    (127.0.0.1:door_port), and ``door`` names the pod, whose listener's health check they follow.
    """
    if not isinstance(layout, list):
        raise AnsibleFilterError("front_door_backends: expected the list of servers.json, got %r" % (layout,))
    backends = []
    for server in layout:
        try:
            program, port = server["program"], int(server["port"])
        except (TypeError, KeyError, ValueError):
            raise AnsibleFilterError("front_door_backends: a server needs a program and a port, got %r" % (server,))
        if door_port in (None, ""):
            backends.append({"name": server_name(pod, program), "address": "127.0.0.1:%d" % port})
        else:
            backends.append({"name": server_name(pod, program), "address": "127.0.0.1:%d" % int(door_port),
                             "door": re.sub(r"[^A-Za-z0-9_.:-]", "_", pod)})
    return backends


def front_door_remote_doors(pods, http_port=8000, base_port=8100, domain="proxy.runpod.net", proxy_address=""):
    """[{name, pod, port, host, address}]: how the front door reaches each of ``pods`` (a fleet's other pods: [{name, id}],
    or {name: id} in order).

    ``host`` is the pod's name at RunPod's HTTPS proxy (``<id>-<http_port>.<domain>``), ``address`` where to
    connect for it (``host:443``, or ``proxy_address`` when given: a proxy that is not reached by that name),
    ``port`` the front door's own loopback listener for it (``base_port`` up, in the order given).
    """
    if isinstance(pods, dict):
        pods = [{"name": name, "id": pod_id} for name, pod_id in pods.items()]
    doors = []
    for index, pod in enumerate(pods or []):
        try:
            name, pod_id = pod["name"], pod["id"]
        except (TypeError, KeyError):
            raise AnsibleFilterError("front_door_remote_doors: a pod needs a name and an id, got %r" % (pod,))
        if not re.match(r"^[a-z0-9]+$", str(pod_id or "")):
            raise AnsibleFilterError("front_door_remote_doors: pod %s has no RunPod id (%r): it cannot be reached "
                                     "through RunPod's proxy; run the playbook with the pods inventory or deploy.yml"
                                     % (name, pod_id))
        host = "%s-%d.%s" % (pod_id, int(http_port), domain)
        doors.append({"name": name, "pod": re.sub(r"[^A-Za-z0-9_.:-]", "_", name), "port": int(base_port) + index, "host": host,
                      "address": proxy_address or "%s:443" % host})
    return doors


def front_door_server_name(program, pod):
    """The front door's name for ``pod``'s server ``program``, the one ``?server=`` picks: ``fac-2.funaudiochat``."""
    return server_name(pod, program)


def front_door_server_prefix(pod):
    """What the names of a pod's servers at the front door start with: ``fac-2.`` for fac-2."""
    return server_name(pod, "")


class FilterModule(object):
    def filters(self):
        return {"front_door_backends": front_door_backends, "front_door_server_prefix": front_door_server_prefix,
                "front_door_server_name": front_door_server_name, "front_door_remote_doors": front_door_remote_doors}
