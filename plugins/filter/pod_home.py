# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod_home, host_pod_home and install_home filters: the layout rules of module_utils/_layout.py, for templates.

Where a pod keeps its own files (``pods/<its RunPod id>/`` under the home on a network volume, the home itself on
a pod volume) and where the install it may share is (``installs/<key>/`` on a network volume).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _layout


def _home(name, home):
    if not home or not str(home).startswith("/"):
        raise AnsibleFilterError("%s: the home must be an absolute path, got %r" % (name, home))
    return str(home)


def pod_home(home, pod_id="", network_volume_id=""):
    """``home`` for a pod on its own volume, ``home/pods/<pod_id>`` for a pod on a network volume."""
    try:
        return _layout.pod_home(_home("pod_home", home), pod_id, network_volume_id)
    except _layout.LayoutError as exc:
        raise AnsibleFilterError("pod_home: %s" % exc)


def host_pod_home(host_vars, home):
    """pod_home for another host, from its variables (``hostvars[name]``): its own funaudiochat_pod_home when set."""
    if not isinstance(host_vars, Mapping):
        raise AnsibleFilterError("host_pod_home: expected a host's variables (hostvars[name]), got %r" % (host_vars,))
    if host_vars.get("funaudiochat_pod_home"):
        return str(host_vars["funaudiochat_pod_home"])
    return pod_home(home, host_vars.get("runpod_id") or "", host_vars.get("runpod_network_volume_id") or "")


def install_home(home, settings, network_volume_id=""):
    """``home`` on a pod volume, ``home/installs/<key of settings>`` on a network volume."""
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("install_home: the settings must be a mapping of what is installed, got %r" % (settings,))
    try:
        return _layout.install_home(_home("install_home", home), settings, network_volume_id)
    except _layout.LayoutError as exc:
        raise AnsibleFilterError("install_home: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"pod_home": pod_home, "host_pod_home": host_pod_home, "install_home": install_home}
