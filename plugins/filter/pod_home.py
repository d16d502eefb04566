# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod_home filter: where one pod keeps its own files, beside the install it may share.

The install (the app, its Python environment, the models, the tools) lives in the home directory on the
pod's volume. A network volume can be mounted by several pods at once, so each pod there keeps what is its
own (its supervisor configuration, logs, turn audio, servers.json, idle-stop state, front door) in
``pods/<its RunPod id>/`` under the home; the pod's boot script finds it there through ``$RUNPOD_POD_ID``.
A pod volume is the pod's alone: its files stay in the home itself, where they always were.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def pod_home(home, pod_id="", network_volume_id=""):
    """``home`` for a pod on its own volume, ``home/pods/<pod_id>`` for a pod on a network volume."""
    if not home or not str(home).startswith("/"):
        raise AnsibleFilterError("pod_home: the home must be an absolute path, got %r" % (home,))
    home = str(home).rstrip("/") or "/"
    if not network_volume_id:
        return home
    pod_id = str(pod_id or "")
    if not pod_id or "/" in pod_id or pod_id in (".", ".."):
        raise AnsibleFilterError("pod_home: a pod on network volume %s needs its RunPod id (runpod_id), got %r"
                                 % (network_volume_id, pod_id))
    return "%s/pods/%s" % (home.rstrip("/"), pod_id)


def host_pod_home(host_vars, home):
    """pod_home for another host, from its variables (``hostvars[name]``): its own funaudiochat_pod_home when set."""
    if not isinstance(host_vars, Mapping):
        raise AnsibleFilterError("host_pod_home: expected a host's variables (hostvars[name]), got %r" % (host_vars,))
    if host_vars.get("funaudiochat_pod_home"):
        return str(host_vars["funaudiochat_pod_home"])
    return pod_home(home, host_vars.get("runpod_id") or "", host_vars.get("runpod_network_volume_id") or "")


class FilterModule(object):
    def filters(self):
        return {"pod_home": pod_home, "host_pod_home": host_pod_home}
