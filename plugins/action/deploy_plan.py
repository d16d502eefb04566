# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work out what deploy.yml will make, from the run's variables, before anything is made.

The rules are in module_utils/_plan.py and the server_layout filters (tested in-process); this plugin reads the
run's variables (the roles' options falling back on the roles' own defaults/main.yml, their one owner), asks
gpu_info for the memory of the GPU types when the server count depends on it, and sets the plan as facts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.funaudiochat.runpod.plugins.filter.server_layout import server_count, server_ports
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _plan
from ansible_collections.funaudiochat.runpod.plugins.plugin_utils._role_files import role_default, run_var


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset()

    def _var(self, task_vars, name, default=None):
        return run_var(self._templar, task_vars, name, default)

    def _option(self, task_vars, role, name):
        """A role option as the run sets it, else the role's default."""
        return self._var(task_vars, name, role_default(role, name))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        result["changed"] = False
        fleet, names = _plan.pod_names(self._var(task_vars, "pod_name"), self._var(task_vars, "pod_count"))
        gpu = self._var(task_vars, "gpu", _plan.DEFAULT_GPUS)
        gpu_count = int(self._var(task_vars, "gpu_count", 1))
        front_door = boolean(self._var(task_vars, "front_door", True), strict=False)
        http_port = self._option(task_vars, "front_door", "front_door_http_port")
        tcp_port = self._option(task_vars, "front_door", "front_door_tcp_port")
        # The server role's default for server_reserved_ports: the front door's ports and its page's.
        reserved = self._var(task_vars, "server_reserved_ports", [
            http_port, tcp_port, self._option(task_vars, "front_door", "front_door_web_port")])
        count = self._var(task_vars, "servers_per_pod", 0)
        ports = self._var(task_vars, "ports")
        memory_gb = 0
        if ports is None and int(count or 0) == 0:
            # The server count follows the memory of the biggest GPU type the pod may get.
            found = self._execute_module(module_name="funaudiochat.runpod.gpu_info", task_vars=task_vars,
                                         module_args={"gpu": gpu, "gpu_count": gpu_count})
            if found.get("failed"):
                return dict(result, failed=True, msg=found.get("msg"))
            memory_gb = _plan.biggest_gpu_gb(found.get("gpus"))
        try:
            # Worked out even when nothing of theirs is published: a bad servers_per_pod is refused before any pod.
            total = server_count([memory_gb] * gpu_count, self._option(task_vars, "server", "server_gpu_memory_gb"), count)
            if ports is None:
                ports = _plan.pod_ports(server_ports(self._option(task_vars, "server", "server_port"), total, reserved),
                                        front_door, http_port, tcp_port)
        except (AnsibleError, TypeError, ValueError) as exc:
            return dict(result, failed=True, msg="deploy_plan: %s" % exc)
        extra, fleet_size = [], len(names)
        if fleet:
            # Pods outside the fleet (other names, or names not ending in -<number>) are never looked at.
            found = self._execute_module(module_name="funaudiochat.runpod.pod_info", task_vars=task_vars,
                                         module_args={"name_prefix": fleet + "-"})
            if found.get("failed"):
                return dict(result, failed=True, msg=found.get("msg"))
            extra = _plan.fleet_extra(found.get("pods"), fleet, names)
            fleet_size = len([pod for pod in found.get("pods") or [] if pod.get("fleet") == fleet])
        plan = {
            "fac_fleet": fleet,
            # The fleet's pods a lower pod_count leaves out, and how many pods the fleet has now.
            "fac_fleet_extra": extra,
            "fac_fleet_size": fleet_size,
            "fac_pod_names": names,
            "fac_gpu": gpu,
            "fac_backstop_hours": _plan.backstop_hours(self._var(task_vars, "backstop_hours"),
                                                       self._var(task_vars, "max_hours")),
            "fac_start_command": _plan.start_command(self._var(task_vars, "start_command"),
                                                     self._var(task_vars, "funaudiochat_home")),
            "fac_server_total": total,
            "fac_ports": ports,
        }
        result["ansible_facts"] = plan
        result["msg"] = "%s: %d server(s) per pod, ports %s" % (", ".join(names), total, ", ".join(ports))
        return result
