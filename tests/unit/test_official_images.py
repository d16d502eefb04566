"""No default anywhere names an image tag RunPod does not publish.

The list of RunPod's official images lives in one place
(plugins/module_utils/_images.py, with where it came from); every
runpod/pytorch or runpod/base tag in the collection's playbooks, roles,
Molecule scenarios, module docs and README must be one of them.
"""

import os
import re

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _images

from tests.sandbox.control import REPO_ROOT

SCANNED = ("README.md", "playbooks", "roles", "molecule", "plugins", "docs", "inventory", "scripts")
TAG = re.compile(r"runpod/(?:pytorch|base):[A-Za-z0-9_.\-]+")
# Named on purpose as what does not exist (docs and the pod module's messages).
KNOWN_MISSING = {"runpod/pytorch:2.8.0-py3.11-cuda12.8.1-devel-ubuntu22.04",
                 "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"}


def _tags():
    for top in SCANNED:
        path = os.path.join(REPO_ROOT, top)
        files = [path] if os.path.isfile(path) else [
            os.path.join(folder, name) for folder, _dirs, names in os.walk(path) for name in names]
        for name in files:
            if name.endswith("module_utils/_images.py"):
                continue  # the list itself, built from format strings
            if name.endswith((".py", ".yml", ".yaml", ".md", ".sh", ".j2")):
                with open(name, encoding="utf-8") as handle:
                    for tag in TAG.findall(handle.read()):
                        yield os.path.relpath(name, REPO_ROOT), tag.rstrip(".")


def test_every_image_tag_named_is_official_or_named_as_missing():
    found = list(_tags())
    assert found, "no image tags found: the scan is broken"
    unknown = [(path, tag) for path, tag in found
               if tag not in _images.OFFICIAL_IMAGES and tag not in KNOWN_MISSING]
    assert unknown == []


def test_the_default_is_torch_280_on_cuda_1281():
    assert _images.DEFAULT_IMAGE == "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"
    assert _images.DEFAULT_IMAGE in _images.TORCH_IMAGES
    assert "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404" in _images.TORCH_IMAGES
