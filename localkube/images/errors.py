"""Errors of image resolution and materialisation."""

from __future__ import annotations


class ImageError(Exception):
    """Base of the image errors; the message is meant for a pod's waiting state."""


class ImageNotFoundError(ImageError):
    """No recipe for this image: the kubelet reports `ErrImagePull`/`ImagePullBackOff`."""

    def __init__(self, reference: str, known: list[str]) -> None:
        super().__init__(
            f'failed to pull and unpack image "{reference}": image not available in localkube '
            f"(known images: {', '.join(known)})"
        )
        self.reference = reference


class InvalidReferenceError(ImageError):
    """The image string is not a valid reference (kubelet: `InvalidImageName`)."""


class ImageBuildError(ImageError):
    """A recipe could not build its layer (e.g. a host package it needs is missing)."""
