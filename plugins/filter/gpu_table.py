# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The gpu_table filter: GPU types (from gpu_info) as the lines of one table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.funaudiochat.runpod.plugins.module_utils._table import money, render

COLUMNS = ("GPU", "ID", "MEMORY", "SECURE", "COMMUNITY", "SECURE SPOT", "COMMUNITY SPOT", "STOCK")


def _stock(stock):
    stock = stock or {}
    return ", ".join("%s %s" % (cloud.lower(), stock[cloud]) for cloud in ("SECURE", "COMMUNITY") if stock.get(cloud)) \
        or "none"


def gpu_table(gpus):
    """Lines of a table: a header, then one row per GPU type (USD per GPU and hour; stock per cloud type)."""
    rows = [COLUMNS]
    for gpu in gpus or []:
        rows.append((gpu.get("display_name"), gpu.get("id"), "%s GB" % gpu.get("memory_gb"),
                     money(gpu.get("secure_price")), money(gpu.get("community_price")),
                     money(gpu.get("secure_spot_price")), money(gpu.get("community_spot_price")),
                     _stock(gpu.get("stock"))))
    return render(rows)


class FilterModule(object):
    def filters(self):
        return {"gpu_table": gpu_table}
