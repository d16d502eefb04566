"""The offline RunPod world used by tests, benchmarks and ``make demo``.

Each part speaks the real wire protocol of the party it stands in for, so the
collection's code runs against it unchanged (see docs/architecture.md).
"""

import os as _os
import sys as _sys


def _import_collection():
    """Make the checkout importable as ansible_collections.funaudiochat.runpod (as `make venv` links it).

    The sandbox maps image names with the collection's own list of RunPod's
    official images (plugins/module_utils/_images.py), so both agree.
    """
    root = _os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
    collections = _os.path.join(root, ".collections")
    link = _os.path.join(collections, "ansible_collections", "funaudiochat", "runpod")
    if not _os.path.lexists(link):
        _os.makedirs(_os.path.dirname(link), exist_ok=True)
        _os.symlink(_os.path.relpath(root, _os.path.dirname(link)), link)
    if collections not in _sys.path:
        _sys.path.insert(0, collections)


_import_collection()
