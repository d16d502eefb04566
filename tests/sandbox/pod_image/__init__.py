"""The sandbox pod images: debootstrapped Debian bookworm shaped like RunPod's official images."""

from .build import ensure_image, ensure_images, image_tag, variant_for  # noqa: F401
