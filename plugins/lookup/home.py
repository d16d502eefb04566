# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: home
version_added: 0.2.0
short_description: Where Fun-Audio-Chat's files are on a pod, from one place
description:
  - The home directory on the pod's volume (V(funaudiochat_home), V(/workspace/funaudiochat) when it is not set),
    and the directories the collection keeps under it. The roles' defaults, the playbooks and the pods' boot
    script read them here, so the home has one default and the layout one rule.
  - V(home) (the default) - the home.
  - V(install) - where the app and its Python environment are - V(funaudiochat_install_home) when set (the
    playbooks set it to C(installs/<key>/) under the home on a network volume), else the home.
  - V(pod) - this pod's own files (supervisor, logs, servers, front door) - V(funaudiochat_pod_home) when set, else
    the home on a pod volume and C(pods/<runpod_id>/) under it on a network volume (V(runpod_network_volume_id)).
  - V(pods) - the directory of the pods' own directories on a network volume, C(<home>/pods).
  - V(installs) - the directory of the installs on a network volume, C(<home>/installs).
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
options:
  _terms:
    description: Which directory; one of V(home), V(install), V(installs), V(pod), V(pods). None gives the home.
    type: list
    elements: str
    required: false
"""

EXAMPLES = r"""
- name: Show where this pod keeps its logs
  ansible.builtin.debug:
    msg: "{{ lookup('funaudiochat.runpod.home', 'pod') }}/logs"

- name: Read the home (-e funaudiochat_home=/workspace/voice moves everything)
  ansible.builtin.debug:
    msg: "{{ lookup('funaudiochat.runpod.home') }}"
"""

RETURN = r"""
_raw:
  description: One absolute path per term (the home when no term is given).
  type: list
  elements: path
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _layout

KINDS = ("home", "install", "installs", "pod", "pods")


class LookupModule(LookupBase):
    def _var(self, variables, name):
        """A variable as a task sees it ('' when unset): templated, since a lookup is handed it as written."""
        value = (variables or {}).get(name)
        if value is None:
            return ""
        return self._templar.template(value)

    def _path(self, kind, variables):
        home = _layout.home_dir(self._var(variables, "funaudiochat_home") or None)
        if kind == "home":
            return home
        if kind == "pods":
            return _layout.pods_dir(home)
        if kind == "installs":
            return _layout.installs_dir(home)
        if kind == "install":
            return str(self._var(variables, "funaudiochat_install_home") or home)
        own = self._var(variables, "funaudiochat_pod_home")
        if own:
            return str(own)
        return _layout.pod_home(home, self._var(variables, "runpod_id"), self._var(variables, "runpod_network_volume_id"))

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        results = []
        for kind in terms or ["home"]:
            if kind not in KINDS:
                raise AnsibleLookupError("home: unknown directory %r, use one of %s" % (kind, ", ".join(KINDS)))
            try:
                results.append(self._path(kind, variables))
            except _layout.LayoutError as exc:
                raise AnsibleLookupError("home: %s" % exc)
        return results
