# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pod_home and install_home filters: where one pod keeps its own files, and where the install it may share is.

The install (the app, its Python environment, the models, the tools) lives in the home directory on the
pod's volume. A network volume can be mounted by several pods at once, so each pod there keeps what is its
own (its supervisor configuration, logs, turn audio, servers.json, idle-stop state, front door) in
``pods/<its RunPod id>/`` under the home; the pod's boot script finds it there through ``$RUNPOD_POD_ID``.
A pod volume is the pod's alone: its files stay in the home itself, where they always were.

The app and its Python environment on a network volume go to ``installs/<key>/`` under the home, the key a hash
of what is installed: a changed version is installed beside the one the volume's other pods still run from
(a rolling reprovision of a fleet), and each pod's supervisor configuration names the one it runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
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


def install_key(settings):
    """12 hex digits of the SHA-256 of ``settings`` as canonical JSON: the same settings, the same key."""
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("install_home: the settings must be a mapping of what is installed, got %r" % (settings,))
    try:
        text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("install_home: the settings cannot be written as JSON: %s" % exc) from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def install_home(home, settings, network_volume_id=""):
    """``home`` on a pod volume, ``home/installs/<key of settings>`` on a network volume."""
    home = pod_home(home)
    key = install_key(settings)
    if not network_volume_id:
        return home
    return "%s/installs/%s" % (home.rstrip("/"), key)


class FilterModule(object):
    def filters(self):
        return {"pod_home": pod_home, "host_pod_home": host_pod_home, "install_home": install_home}
