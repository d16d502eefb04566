"""The sandbox pod image: debootstrapped Debian bookworm plus RunPod-like pod files."""

from .build import ensure_image, image_tag  # noqa: F401
