"""Local image recipes keyed by image name (see `registry.py`).

Public API: `resolve_image(name)`, `pull_image(name, cache_dir) -> Image`, the `Image`
dataclass the container runtime consumes, and the `ImageError` tree.
"""

from localkube.images.errors import (
    ImageBuildError,
    ImageError,
    ImageNotFoundError,
    InvalidReferenceError,
)
from localkube.images.recipe import Image, ImageRecipe
from localkube.images.reference import ImageReference, parse_reference
from localkube.images.registry import known_images, pull_image, resolve_image

__all__ = [
    "Image",
    "ImageBuildError",
    "ImageError",
    "ImageNotFoundError",
    "ImageRecipe",
    "ImageReference",
    "InvalidReferenceError",
    "known_images",
    "parse_reference",
    "pull_image",
    "resolve_image",
]
