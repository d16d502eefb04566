# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where things are on a pod's volume: the one owner of the home path and of the rules under it.

The install (the app, its Python environment, the models, the tools) lives in the home directory on the pod's
volume. A network volume can be mounted by several pods at once, so each pod there keeps what is its own (its
supervisor configuration, logs, turn audio, servers.json, idle-stop state, front door) in ``pods/<its RunPod id>/``
under the home; the pod's boot script finds it there through ``$RUNPOD_POD_ID``. A pod volume is the pod's alone:
its files stay in the home itself.

The app and its Python environment on a network volume go to ``installs/<key>/`` under the home, the key a hash of
what is installed: a changed version is installed beside the one the volume's other pods still run from (a rolling
reprovision of a fleet), and each pod's supervisor configuration names the one it runs.

The roles, the playbooks and the boot script read these through the ``home`` lookup and the ``pod_home`` and
``install_home`` filters; plain Python here, tested in-process (tests/unit/plugins/module_utils/test_layout.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

# The app's home on the pod's volume (funaudiochat_home), under the pod module's volume_mount_path (/workspace).
DEFAULT_HOME = "/workspace/funaudiochat"
PODS = "pods"
INSTALLS = "installs"


class LayoutError(ValueError):
    """A path that cannot be worked out; the message says which value to fix."""


def home_dir(home=None):
    """The home, ``DEFAULT_HOME`` when not given; an absolute path without a trailing slash."""
    home = DEFAULT_HOME if home is None or home == "" else str(home)
    if not home.startswith("/"):
        raise LayoutError("the home (funaudiochat_home) must be an absolute path, got %r" % (home,))
    return home.rstrip("/") or "/"


def pods_dir(home=None):
    """The directory of the pods' own directories on a network volume: ``<home>/pods``."""
    return "%s/%s" % (home_dir(home).rstrip("/"), PODS)


def installs_dir(home=None):
    """The directory of the installs on a network volume, one per version: ``<home>/installs``."""
    return "%s/%s" % (home_dir(home).rstrip("/"), INSTALLS)


def pod_home(home=None, pod_id="", network_volume_id=""):
    """``home`` for a pod on its own volume, ``<home>/pods/<pod_id>`` for a pod on a network volume."""
    home = home_dir(home)
    if not network_volume_id:
        return home
    pod_id = str(pod_id or "")
    if not pod_id or "/" in pod_id or pod_id in (".", ".."):
        raise LayoutError("a pod on network volume %s needs its RunPod id (runpod_id), got %r"
                          % (network_volume_id, pod_id))
    return "%s/%s" % (pods_dir(home), pod_id)


def install_key(settings):
    """12 hex digits of the SHA-256 of ``settings`` (a mapping) as canonical JSON: the same settings, the same key."""
    try:
        text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError) as exc:
        raise LayoutError("the settings cannot be written as JSON: %s" % exc)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def install_home(home=None, settings=None, network_volume_id=""):
    """``home`` on a pod volume, ``<home>/installs/<key of settings>`` on a network volume."""
    home = home_dir(home)
    key = install_key(settings or {})
    if not network_volume_id:
        return home
    return "%s/%s" % (installs_dir(home), key)
