# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Private to the funaudiochat.runpod collection; not a public API.

Aligned text tables for the status and GPU playbooks' filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def render(rows):
    """Rows (a header first) as lines with columns padded to their widest cell; the last column is not padded."""
    rows = [["-" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]) - 1)]
    return ["  ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]).rstrip() for row in rows]


def money(value):
    return "-" if value is None else "%.2f" % float(value)
