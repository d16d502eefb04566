# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work out which pod does what in a provision run, per pod, before any pod is touched.

The rules are in module_utils/_provision.py (tested in-process); this plugin reads the pod's variables and its
fellow pods' (hostvars, the run's inventory group and the play's batch) and sets the answers as facts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.funaudiochat.runpod.plugins.filter.pod_home import host_pod_home
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _layout, _provision
from ansible_collections.funaudiochat.runpod.plugins.plugin_utils._role_files import run_var


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset()

    def _var(self, task_vars, name, default=None):
        return run_var(self._templar, task_vars, name, default)

    @staticmethod
    def _host_var(hostvars, host, name, default=None):
        value = hostvars[host].get(name) if host in hostvars else None
        return default if value is None else value

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        name = task_vars["inventory_hostname"]
        hostvars = task_vars.get("hostvars") or {}
        group = (task_vars.get("groups") or {}).get("runpod") or []
        fleet = self._var(task_vars, "runpod_fleet")
        pods = _provision.fleet_pods(name, fleet, dict(
            (host, {"fleet": self._host_var(hostvars, host, "runpod_fleet"),
                    "reachable": self._host_var(hostvars, host, "ansible_host") is not None}) for host in group))
        door = _provision.front_door_host(name, pods, self._var(task_vars, "front_door_host"))
        volume = self._var(task_vars, "runpod_network_volume_id") or ""
        batch = dict((host, self._host_var(hostvars, host, "runpod_network_volume_id") or "")
                     for host in task_vars.get("ansible_play_batch") or [name])
        installer = _provision.installs(name, volume, dict(batch, **{name: volume}))
        home = _layout.home_dir(self._var(task_vars, "funaudiochat_home") or None)
        door_vars = hostvars[door] if door in hostvars else {}
        lock = self._var(task_vars, "provision_volume_lock")
        lock = None if lock is None else boolean(lock, strict=False)
        facts = {
            "provision_fleet_pods": pods,
            "provision_front_door_host": door,
            # The front door pod's own directory, where its control script is (pods/<its id>/ on a network volume).
            "provision_front_door_home": host_pod_home(door_vars, home),
            "provision_main_door": name == door,
            "provision_installs": installer,
            "provision_writer_lock": _provision.writer_lock(installer, volume, lock),
            "provision_rolling_turn": _provision.rolling_turn(
                boolean(self._var(task_vars, "provision_rolling", False), strict=False),
                boolean(self._var(task_vars, "front_door", True), strict=False),
                self._task.check_mode or task_vars.get("ansible_check_mode")),
        }
        result.update(changed=False, ansible_facts=facts,
                      msg="%s: front door on %s, %s" % (name, door, "installs" if installer else "uses the install of %s"
                                                        % sorted(host for host, vol in batch.items() if vol == volume)[0]))
        return result
