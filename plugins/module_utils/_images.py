# -*- coding: utf-8 -*-
# Copyright: (c) 2026, funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the funaudiochat.runpod collection; not a public API.

RunPod's official container images the collection names, in one place.

Source: RunPod's own image recipes and their published tag lists,
github.com/runpod/containers (official-templates/pytorch/README.md,
official-templates/pytorch/docker-bake.hcl, official-templates/base/README.md),
read at commit 6990d3773d180d0270d534a6e532c997dc629060 (2026-07-29).
The torch 2.8.0 images are ``runpod/pytorch:1.0.2-cu<cuda>-torch280-<ubuntu>``
for CUDA 12.8.1 and 12.9.0 on Ubuntu 22.04 and 24.04 (the README marks its CUDA
13.0.0 builds "not available on Runpod", so they are left out). The older tag
style (``runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04``) ends at
torch 2.6.0: a ``2.8.0-py3.11-cuda12.8.1-...`` tag does not exist, and a pod
asked to run it never starts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The collection's default: torch 2.8.0 + CUDA 12.8.1 on Ubuntu 22.04.
DEFAULT_IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"

# Images with torch 2.8.0 preinstalled for /usr/local/bin/python (Python 3.12).
TORCH_IMAGES = tuple(
    "runpod/pytorch:1.0.2-cu%s-torch280-%s" % (cuda, ubuntu)
    for cuda in ("1281", "1290")
    for ubuntu in ("ubuntu2204", "ubuntu2404")
)

# Images without torch (the torch role installs it), same Python layout.
BASE_IMAGES = tuple(
    "runpod/base:1.0.2-cuda%s-%s" % (cuda, ubuntu)
    for cuda in ("1281", "1290")
    for ubuntu in ("ubuntu2204", "ubuntu2404")
)

OFFICIAL_IMAGES = TORCH_IMAGES + BASE_IMAGES


def stuck_image_hint(image):
    """What to tell a user whose pod stays RUNNING without a runtime."""
    if image in OFFICIAL_IMAGES:
        return ("the image %s may still be pulling (it is several GB); raise wait_timeout" % image)
    return ("the image %r may not exist (RunPod keeps such a pod RUNNING with no runtime while the pull "
            "fails); use an official image such as %s" % (image, DEFAULT_IMAGE))
