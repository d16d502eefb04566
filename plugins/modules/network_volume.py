#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: network_volume
short_description: Manage RunPod network volumes
version_added: 0.1.0
description:
  - Creates, grows or deletes a RunPod network volume, identified by its O(name).
  - A network volume outlives its pods; mounted as the model cache it lets a new pod skip the
    ~20 GB Fun-Audio-Chat model download.
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
extends_documentation_fragment:
  - funaudiochat.runpod.runpod
  - funaudiochat.runpod.attributes
options:
  name:
    description: Volume name, unique in the account.
    type: str
    required: true
  state:
    description: Whether the volume should exist.
    type: str
    choices: [present, absent]
    default: present
  size_gb:
    description:
      - Size in GB. Required to create. A larger size grows an existing volume; RunPod cannot shrink one,
        so a smaller size is an error.
    type: int
  data_center_id:
    description: Data center to create the volume in, such as V(EU-RO-1). Required to create.
    type: str
"""

EXAMPLES = r"""
- name: Model cache for Fun-Audio-Chat pods
  funaudiochat.runpod.network_volume:
    name: fac-models
    size_gb: 60
    data_center_id: EU-RO-1
  register: volume

- name: Pods in that data center mount it
  funaudiochat.runpod.pod:
    name: fac-1
    gpu: A40
    image: runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204
    network_volume_id: "{{ volume.volume.id }}"
"""

RETURN = r"""
volume:
  description: The volume after the task (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Volume id (null in check mode before creation).
      type: str
    name:
      description: Volume name.
      type: str
    size_gb:
      description: Size in GB.
      type: int
    data_center_id:
      description: Data center.
      type: str
  sample: {"id": "v0l1234567", "name": "fac-models", "size_gb": 60, "data_center_id": "EU-RO-1"}
"""

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils._module import RunPodModule


def shape(volume):
    if not volume:
        return {}
    return {"id": volume.get("id"), "name": volume.get("name"), "size_gb": volume.get("size"),
            "data_center_id": volume.get("dataCenterId")}


def lookup(rp, name):
    matches = [v for v in rp.client.list_network_volumes() if v.get("name") == name]
    if len(matches) > 1:
        raise _client.RunPodError("%d network volumes are named %r (%s); rename or delete the extras"
                                  % (len(matches), name, ", ".join(v["id"] for v in matches)))
    return matches[0] if matches else None


def run(rp):
    p = rp.params
    name = _client.check_name(p["name"], "name")
    volume = lookup(rp, name)
    before = shape(volume)

    if p["state"] == "absent":
        if volume and not rp.check_mode:
            rp.client.delete_network_volume(volume["id"])
        rp.exit(before, {}, changed=volume is not None, volume={})

    if volume is None:
        if not p["size_gb"] or not p["data_center_id"]:
            rp.fail("size_gb and data_center_id are required to create network volume %r" % name)
        _client.check_id(p["data_center_id"], "data_center_id")
        after = {"id": None, "name": name, "size_gb": p["size_gb"], "data_center_id": p["data_center_id"]}
        if not rp.check_mode:
            try:
                after = shape(rp.client.create_network_volume(name, p["size_gb"], p["data_center_id"]))
            except _client.TransientError:
                found = lookup(rp, name)  # the create may have happened; never make a second one
                if found is None:
                    raise
                after = shape(found)
        rp.exit(before, after, changed=True, volume=after)

    if p["data_center_id"] and p["data_center_id"] != volume.get("dataCenterId"):
        rp.fail("network volume %r is in %s, not %s; volumes cannot move, use another name"
                % (name, volume.get("dataCenterId"), p["data_center_id"]))
    after = before
    if p["size_gb"] is not None and p["size_gb"] != volume.get("size"):
        if p["size_gb"] < volume.get("size"):
            rp.fail("size_gb: network volume %r is %d GB and RunPod cannot shrink it; use %d or more"
                    % (name, volume.get("size"), volume.get("size")))
        after = dict(before, size_gb=p["size_gb"])
        if not rp.check_mode:
            after = shape(rp.client.update_network_volume(volume["id"], size_gb=p["size_gb"]))
    rp.exit(before, after, changed=after != before, volume=after)


def main():
    rp = RunPodModule(
        dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            size_gb=dict(type="int"),
            data_center_id=dict(type="str"),
        ),
        ranges=dict(size_gb=(1, 100000)),
        supports_check_mode=True,
    )
    rp.run(run)


if __name__ == "__main__":
    main()
