# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Module attributes shared by the collection's modules."""

    # Modules that change things: predicted in check mode, before/after in diff mode.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Predicts the change without sending any mutation to RunPod.
  diff_mode:
    support: full
    description: Shows the managed settings before and after.
"""

    # Modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Only reads, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Only reads; there is nothing to diff.
"""
