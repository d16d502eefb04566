# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The front_door_backends filter: a pod's server processes as the front door's HAProxy servers.

The front door (the front_door role) runs on one pod of a fleet and sends sessions to every pod's
servers: its own over loopback, the others' over their public IP and the public port RunPod maps to
each server's port (a pod's TCP ports are only reachable that way from another pod).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError


def server_name(pod, program):
    """HAProxy's name for a pod's server program; it allows letters, digits and - _ . : only."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", "%s.%s" % (pod, program))


def front_door_backends(layout, pod, public_ip=None, public_ports=None):
    """[{name, address}] for the servers of ``layout`` (entries of the server role's servers.json).

    Without ``public_ip`` the servers are on the front door's own pod (127.0.0.1 and their port);
    with it, each goes through ``public_ports`` (container port -> public port), and a server whose
    port is not published is left out: nothing outside its pod can reach it.
    """
    if not isinstance(layout, list):
        raise AnsibleFilterError("front_door_backends: expected the list of servers.json, got %r" % (layout,))
    backends = []
    for server in layout:
        try:
            program, port = server["program"], int(server["port"])
        except (TypeError, KeyError, ValueError):
            raise AnsibleFilterError("front_door_backends: a server needs a program and a port, got %r" % (server,))
        if not public_ip:
            address = "127.0.0.1:%d" % port
        else:
            public = (public_ports or {}).get(str(port))
            if public in (None, ""):
                continue
            address = "%s:%s" % (public_ip, public)
        backends.append({"name": server_name(pod, program), "address": address})
    return backends


def front_door_server_name(program, pod):
    """The front door's name for ``pod``'s server ``program``, the one ``?server=`` picks: ``fac-2.funaudiochat``."""
    return server_name(pod, program)


def front_door_server_prefix(pod):
    """What the names of a pod's servers at the front door start with: ``fac-2.`` for fac-2."""
    return server_name(pod, "")


class FilterModule(object):
    def filters(self):
        return {"front_door_backends": front_door_backends, "front_door_server_prefix": front_door_server_prefix,
                "front_door_server_name": front_door_server_name}
