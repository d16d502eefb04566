#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gpu_info
short_description: List RunPod GPU types (and CPU instances) with memory, prices and stock
version_added: 0.1.0
description:
  - Returns RunPod's GPU catalogue with memory, on-demand and spot prices, and stock per cloud type,
    cheapest first. Use it to choose O(funaudiochat.runpod.pod#module:gpu).
  - With O(instance_id), also the price, stock and limits of those CPU instances (RV(cpus)), for
    O(funaudiochat.runpod.pod#module:instance_id).
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
extends_documentation_fragment:
  - funaudiochat.runpod.runpod
  - funaudiochat.runpod.attributes.info_module
options:
  gpu:
    description:
      - Only these GPU types; friendly names (V(A40), V(4090), V(H100)) and RunPod GPU ids (V(NVIDIA A40)),
        as O(funaudiochat.runpod.pod#module:gpu) takes them. A comma-separated string is accepted.
      - An unknown name fails with the names that would work.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  min_vram_gb:
    description: Only GPU types with at least this much memory. Fun-Audio-Chat needs 24 GB.
    type: int
    default: 0
  max_price:
    description: Only GPU types whose cheapest on-demand price per GPU and hour is at most this (USD).
    type: float
  gpu_count:
    description: Stock and prices are for pods with this many GPUs.
    type: int
    default: 1
  allowed_cuda_versions:
    description:
      - Stock and prices on hosts whose driver supports one of these CUDA versions, as
        M(funaudiochat.runpod.pod) creates pods with the same filter. An empty list counts every host.
    type: list
    elements: str
    default: ['12.8', '12.9', '13.0']
    version_added: 0.2.0
  in_stock:
    description: Only GPU types that some cloud type can supply now.
    type: bool
    default: false
  instance_id:
    description:
      - CPU instances to describe in RV(cpus), such as V(cpu3c-2-4) (C(<flavour>-<vCPUs>-<GB RAM>)).
    type: list
    elements: str
    default: []
    version_added: 0.2.0
seealso:
  - module: funaudiochat.runpod.pod
"""

EXAMPLES = r"""
- name: GPUs that can run Fun-Audio-Chat for under 1 USD/h, in stock now
  funaudiochat.runpod.gpu_info:
    min_vram_gb: 24
    max_price: 1.0
    in_stock: true
  register: gpus

- name: Create a pod on the cheapest of them
  funaudiochat.runpod.pod:
    name: fac-1
    gpu: "{{ gpus.gpus | map(attribute='id') | list }}"
    image: runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204
"""

RETURN = r"""
gpus:
  description: Matching GPU types, cheapest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: RunPod GPU type id, usable as O(funaudiochat.runpod.pod#module:gpu).
      type: str
    display_name:
      description: Short name, such as V(A40).
      type: str
    memory_gb:
      description: GPU memory in GB.
      type: int
    secure_price:
      description: On-demand USD per GPU and hour in the secure cloud.
      type: float
    community_price:
      description: On-demand USD per GPU and hour in the community cloud.
      type: float
    secure_spot_price:
      description: Spot USD per GPU and hour in the secure cloud.
      type: float
    community_spot_price:
      description: Spot USD per GPU and hour in the community cloud.
      type: float
    stock:
      description:
        - Stock level per cloud type (V(High), V(Medium), V(Low)), or null when sold out (RunPod answers null
          or the string V(None); both are returned as null).
      type: dict
      sample: {"SECURE": "High", "COMMUNITY": null}
  sample: [{"id": "NVIDIA A40", "display_name": "A40", "memory_gb": 48, "secure_price": 0.44}]
cpus:
  description: The CPU instances of O(instance_id) RunPod offers, in the order asked (Secure Cloud only).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The instance id, usable as O(funaudiochat.runpod.pod#module:instance_id).
      type: str
    display_name:
      description: The flavour's name, such as V(Compute-Optimized).
      type: str
    vcpus:
      description: Virtual CPUs.
      type: int
    ram_gb:
      description: Memory in GB.
      type: int
    container_disk_limit_gb:
      description: The largest container disk this instance takes (the flavour's limit per vCPU times the vCPUs).
      type: int
    price_per_hr:
      description: On-demand USD per hour for the whole instance.
      type: float
    stock:
      description: Stock level (V(High), V(Medium), V(Low)), or null when sold out.
      type: str
  sample: [{"id": "cpu3c-2-4", "vcpus": 2, "ram_gb": 4, "container_disk_limit_gb": 20, "price_per_hr": 0.06}]
"""

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _pods
from ansible_collections.funaudiochat.runpod.plugins.module_utils._module import RunPodModule


def shape(row):
    return {
        "id": row["id"],
        "display_name": row.get("displayName"),
        "memory_gb": row.get("memoryInGb"),
        "max_gpu_count": row.get("maxGpuCount"),
        "secure_price": row.get("securePrice"),
        "community_price": row.get("communityPrice"),
        "secure_spot_price": row.get("secureSpotPrice"),
        "community_spot_price": row.get("communitySpotPrice"),
        "stock": dict((cloud, status if _client.in_stock(status) else None) for cloud, status in (
            ("SECURE", (row.get("secure") or {}).get("stockStatus")),
            ("COMMUNITY", (row.get("community") or {}).get("stockStatus")))),
    }


def cheapest(gpu):
    prices = [price for price in (gpu["secure_price"], gpu["community_price"]) if price]
    return min(prices) if prices else float("inf")


def run(rp):
    p = rp.params
    gpus = []
    rows = rp.client.gpu_types(p["gpu_count"], p["allowed_cuda_versions"])
    wanted = set(_pods.resolve_gpus(p["gpu"], rows)) if p["gpu"] else None
    for row in rows:
        gpu = shape(row)
        if wanted is not None and gpu["id"] not in wanted:
            continue
        if (gpu["memory_gb"] or 0) < p["min_vram_gb"]:
            continue
        if p["max_price"] is not None and cheapest(gpu) > p["max_price"]:
            continue
        if p["in_stock"] and not any(gpu["stock"].values()):
            continue
        gpus.append(gpu)
    gpus.sort(key=lambda gpu: (cheapest(gpu), gpu["id"]))
    cpus = []
    if p["instance_id"]:
        wanted_cpus = _client.comma_list(p["instance_id"])
        known = rp.client.cpu_instances(wanted_cpus)
        for instance in wanted_cpus:
            row = known.get(instance)
            if row is None:
                continue
            specifics = row.get("specifics") or {}
            status = specifics.get("stockStatus")
            cpus.append({"id": instance, "display_name": row.get("displayName"), "vcpus": row["vcpus"],
                         "ram_gb": row["ram_gb"], "container_disk_limit_gb": int(row.get("diskLimitPerVcpu") or 0) * row["vcpus"],
                         "price_per_hr": specifics.get("securePrice"),
                         "stock": status if _client.in_stock(status) else None})
    rp.module.exit_json(changed=False, gpus=gpus, cpus=cpus)


def main():
    rp = RunPodModule(
        dict(
            gpu=dict(type="list", elements="str", default=[]),
            min_vram_gb=dict(type="int", default=0),
            max_price=dict(type="float"),
            gpu_count=dict(type="int", default=1),
            allowed_cuda_versions=dict(type="list", elements="str", default=list(_pods.DEFAULT_CUDA_VERSIONS)),
            in_stock=dict(type="bool", default=False),
            instance_id=dict(type="list", elements="str", default=[]),
        ),
        ranges=dict(min_vram_gb=(0, 1024), max_price=(0.0, 1000), gpu_count=(1, 8)),
        supports_check_mode=True,
    )
    rp.run(run)


if __name__ == "__main__":
    main()
