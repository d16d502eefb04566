# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which pod does what in a provision run (playbooks/provision.yml), worked out before any pod is touched.

A fleet (pods <fleet>-1..N, runpod_fleet) shares one front door, on its first pod by name unless front_door_host
names another; the pods of a run that share a network volume let the first of them by name install the shared
part for all; that pod takes the volume's writer lock; a rolling run takes each pod's servers out of the front door
for its turn. The provision_plan action plugin hands these functions the hosts' variables; kept apart from Ansible
so the rules are tested in-process (tests/unit/plugins/module_utils/test_provision.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def fleet_pods(name, fleet, hosts):
    """The pods of ``name``'s fleet that answer over SSH, by name; ``[name]`` for a pod in no fleet (``fleet`` None).

    ``hosts``: every pod of the run's inventory group, name -> ``{"fleet": runpod_fleet, "reachable": bool}``
    (reachable: it has an SSH address).
    """
    if fleet is None:
        return [name]
    return sorted(host for host, pod in hosts.items() if pod.get("fleet") == fleet and pod.get("reachable"))


def front_door_host(name, pods, chosen=None):
    """The pod whose front door is the fleet's: ``chosen`` (front_door_host) when given, else the first by name."""
    return chosen or (pods or [name])[0]


def installs(name, network_volume_id, batch):
    """Whether ``name`` installs the shared part (torch, the app, the models): a pod alone on its volume does; of the
    pods of this batch that mount one network volume (``batch``: name -> network volume id), the first by name."""
    if not network_volume_id:
        return True
    return name == sorted(host for host, volume in batch.items() if volume == network_volume_id)[0]


def writer_lock(installer, network_volume_id, volume_lock=None):
    """Whether the pod takes the volume's writer lock: the installer on a network volume, or on any volume with
    ``volume_lock`` (provision_volume_lock) true; never a pod that does not install."""
    wanted = bool(network_volume_id) if volume_lock is None else bool(volume_lock)
    return wanted and installer


def rolling_turn(rolling, front_door, check_mode):
    """Whether the pod's servers leave the front door for its turn (provision_rolling): never without a front door,
    never in check mode."""
    return bool(rolling) and bool(front_door) and not check_mode
