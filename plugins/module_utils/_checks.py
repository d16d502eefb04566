# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Private to the funaudiochat.runpod collection; not a public API.

Input checks shared by the modules: bad values are refused in one line before anything is sent."""

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


# The options every RunPod API user has (modules and the inventory plugin): (lowest, highest).
API_RANGES = dict(api_timeout=(1, 3600), api_retry_deadline=(0, 86400))


def check_api_options(params, ranges=None):
    """check_ranges over API_RANGES plus ``ranges``, then api_base_url; the first problem or None."""
    problem = check_ranges(params, dict(API_RANGES, **(ranges or {})))
    base_url = params.get("api_base_url")
    if problem is None and base_url and not str(base_url).startswith(("https://", "http://")):
        problem = "api_base_url: %r is not an http(s) URL; leave it unset for RunPod's API" % str(base_url)[:60]
    return problem
