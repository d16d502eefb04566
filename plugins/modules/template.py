#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: template
short_description: Manage RunPod pod templates
version_added: 0.1.0
description:
  - Creates, updates or deletes a RunPod pod template, identified by its O(name).
  - A template bundles image, disks, ports, environment and start command so pods can be created
    with O(funaudiochat.runpod.pod#module:template_id).
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
extends_documentation_fragment:
  - funaudiochat.runpod.runpod
  - funaudiochat.runpod.attributes
options:
  name:
    description: Template name, unique in the account.
    type: str
    required: true
  state:
    description: Whether the template should exist.
    type: str
    choices: [present, absent]
    default: present
  image:
    description: Container image. Required with O(state=present).
    type: str
  start_command:
    description: Container start command (RunPod's "docker args").
    type: str
    default: ""
  container_disk_gb:
    description: Container disk size in GB.
    type: int
    default: 50
  volume_gb:
    description: Pod volume size in GB.
    type: int
    default: 0
  volume_mount_path:
    description: Where the volume is mounted.
    type: str
    default: /workspace
  ports:
    description: Ports to expose, such as V(22/tcp) or V(8888/http); a comma-separated string is accepted.
    type: raw
    default: ["22/tcp"]
  env:
    description:
      - Environment variables baked into the template.
      - Treated as secret. Values are compared but never appear in output; only names are returned.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: A template for Fun-Audio-Chat pods
  funaudiochat.runpod.template:
    name: fun-audio-chat
    image: runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204
    container_disk_gb: 80
    ports: [22/tcp, 8002/tcp]
    env:
      HF_HOME: /workspace/hf
  register: tpl

- name: Remove it
  funaudiochat.runpod.template:
    name: fun-audio-chat
    state: absent
"""

RETURN = r"""
template:
  description: The template after the task (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Template id (null in check mode before creation).
      type: str
    name:
      description: Template name.
      type: str
    image:
      description: Container image.
      type: str
    start_command:
      description: Start command.
      type: str
    container_disk_gb:
      description: Container disk in GB.
      type: int
    volume_gb:
      description: Volume size in GB.
      type: int
    volume_mount_path:
      description: Volume mount path.
      type: str
    ports:
      description: Exposed ports.
      type: list
      elements: str
    env_keys:
      description: Names of the template's environment variables.
      type: list
      elements: str
  sample: {"id": "x1y2z3", "name": "fun-audio-chat", "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "ports": ["22/tcp"]}
"""

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils._module import RunPodModule


def comparable(template):
    """The settings we manage, normalised; env values included (compared, never returned)."""
    if not template:
        return {}
    return {
        "image": template.get("imageName"),
        "start_command": template.get("dockerArgs") or "",
        "container_disk_gb": template.get("containerDiskInGb"),
        "volume_gb": template.get("volumeInGb") or 0,
        "volume_mount_path": template.get("volumeMountPath"),
        "ports": _client.normalize_ports(template.get("ports") or ""),
        "env": dict((e["key"], e["value"]) for e in template.get("env") or []),
    }


def public(template, settings):
    if not template and not settings:
        return {}
    shown = dict(settings)
    shown["env_keys"] = sorted(shown.pop("env", {}))
    shown["id"] = (template or {}).get("id")
    shown["name"] = (template or {}).get("name")
    return shown


def run(rp):
    p = rp.params
    name = _client.check_name(p["name"], "name")
    current = [t for t in rp.client.list_templates() if t.get("name") == name]
    template = current[0] if current else None
    before = comparable(template)

    if p["state"] == "absent":
        changed = template is not None
        if changed and not rp.check_mode:
            rp.client.delete_template(name)
        rp.exit(public(template, before), {}, changed=changed, template={})

    if not p["image"]:
        rp.fail("image: required to create or update template %r" % name)
    wanted = {
        "image": _client.check_image(p["image"]),
        "start_command": p["start_command"] or "",
        "container_disk_gb": p["container_disk_gb"],
        "volume_gb": p["volume_gb"],
        "volume_mount_path": _client.check_path(p["volume_mount_path"]),
        "ports": _client.normalize_ports(p["ports"]),
        "env": dict(_client.env_list(p["env"])),
    }
    changed = before != wanted
    result = template
    if changed and not rp.check_mode:
        result = rp.client.save_template(
            name, wanted["image"], docker_args=wanted["start_command"],
            container_disk_gb=wanted["container_disk_gb"], volume_gb=wanted["volume_gb"],
            volume_mount_path=wanted["volume_mount_path"], ports=wanted["ports"], env=wanted["env"],
            template_id=template["id"] if template else None)
    after = wanted if changed else before
    shown = public(result or {"name": name}, after)
    rp.exit(public(template, before), shown, changed=changed, template=shown)


def main():
    rp = RunPodModule(
        dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            image=dict(type="str"),
            start_command=dict(type="str", default=""),
            container_disk_gb=dict(type="int", default=50),
            volume_gb=dict(type="int", default=0),
            volume_mount_path=dict(type="str", default="/workspace"),
            ports=dict(type="raw", default=["22/tcp"]),
            env=dict(type="dict", default={}, no_log=True),
        ),
        ranges=dict(container_disk_gb=(1, 10000), volume_gb=(0, 100000)),
        supports_check_mode=True,
    )
    rp.run(run)


if __name__ == "__main__":
    main()
