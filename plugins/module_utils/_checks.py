# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Input checks shared by the modules: bad values are refused in one line before anything is sent."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def check_ranges(params, ranges):
    """The first option outside its bounds, as one line saying what to use; None when all are in bounds."""
    for option in sorted(ranges):
        value = params.get(option)
        low, high = ranges[option]
        if value is None:
            continue
        if value < low or (high is not None and value > high):
            bounds = "at least %s" % low if high is None else "between %s and %s" % (low, high)
            return "%s: must be %s, not %s" % (option, bounds, value)
    return None
