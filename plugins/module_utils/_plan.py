# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a deploy will make, worked out from its run variables before anything is made.

The deploy_plan action plugin reads the run's variables and hands them to these functions; deploy.yml only
carries out the plan. Kept apart from Ansible so the rules are tested in-process (tests/unit).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.funaudiochat.runpod.plugins.module_utils._layout import DEFAULT_HOME

DEFAULT_POD = "fac-1"
DEFAULT_FLEET = "fac"
DEFAULT_GPUS = ["A40", "L40S", "A6000"]
DEFAULT_BACKSTOP_HOURS = 24.0


def pod_names(pod_name=None, pod_count=None):
    """The fleet's name ('' for a single pod) and the pods' names: ``pod_name``, or ``<fleet>-1`` .. ``-N``."""
    if pod_count is None:
        return "", [pod_name or DEFAULT_POD]
    fleet = pod_name or DEFAULT_FLEET
    return fleet, ["%s-%d" % (fleet, number) for number in range(1, int(pod_count) + 1)]


def backstop_hours(backstop=None, max_hours=None):
    """Hours after its creation at which RunPod itself stops a pod (``stopAfter``): ``backstop`` when given, else
    ``max_hours`` when set above 0, else 24. 0: none."""
    if backstop is not None:
        return float(backstop)
    if max_hours is not None and float(max_hours) > 0:
        return float(max_hours)
    return DEFAULT_BACKSTOP_HOURS


def start_command(command=None, home=None):
    """The pod's start command (RunPod's ``dockerArgs``), which replaces the image's own: the boot script on the
    volume in the background, when it is there (not before the first provision), then RunPod's ``/start.sh``
    (RunPod's template docs: ``bash -c '... && /start.sh'``; runpod/containers, container-template). ``command``
    when given; '' keeps the image's own."""
    if command is not None:
        return command
    return "bash -c 'b=%s/bin/funaudiochat-boot; [ -x $b ] && $b & exec /start.sh'" % (home or DEFAULT_HOME)


def pod_ports(server_ports, front_door=True, http_port=8000, tcp_port=8010):
    """The ports a pod is made with: SSH's, then the front door's (its HTTP port for RunPod's HTTPS proxy, its TCP
    port) or, without a front door, each server's own."""
    ports = ["22/tcp"]
    if front_door:
        return ports + ["%d/http" % int(http_port), "%d/tcp" % int(tcp_port)]
    return ports + ["%d/tcp" % int(port) for port in server_ports]


def biggest_gpu_gb(gpus):
    """The memory of the biggest GPU type the pod may get (``gpu_info``'s ``gpus``), 0 when none says."""
    return max([float(gpu.get("memory_gb") or 0) for gpu in gpus or []] or [0])


def fleet_extra(found_pods, fleet, names):
    """The fleet's pods a smaller ``pod_count`` leaves out, as [{name, id}] by name: pods of ``fleet`` (``pod_info``'s
    ``pods``) whose name is not in ``names``; two pods of one name are both listed."""
    return [{"name": pod["name"], "id": pod.get("id")}
            for pod in sorted(found_pods or [], key=lambda pod: (pod["name"], pod.get("id") or ""))
            if pod.get("fleet") == fleet and pod["name"] not in names]
