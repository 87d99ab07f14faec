"""Image references, normalised the way container runtimes do (docker.io/library/...)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from localkube.images.errors import InvalidReferenceError

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True)
class ImageReference:
    """registry/repository[:tag][@digest]; `name` is the last path component."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        return self.repository.rsplit("/", 1)[-1]

    @property
    def locator(self) -> str:
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        out = self.locator
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse_reference(image: str) -> ImageReference:
    """Parse and normalise: `foo:1` -> docker.io/library/foo:1, no tag -> `latest`."""
    text = image.strip()
    if not text:
        raise InvalidReferenceError("image reference is empty")
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidReferenceError(f'invalid reference format: "{image}"')
    tag = None
    last_slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > last_slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG.match(tag):
            raise InvalidReferenceError(f'invalid reference format: "{image}"')
    parts = text.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, parts[1:]
    else:
        registry, path = "docker.io", parts
    if registry == "docker.io" and len(path) == 1:
        path = ["library", *path]
    if not path or not all(_COMPONENT.match(p) for p in path):
        raise InvalidReferenceError(f'invalid reference format: "{image}"')
    if tag is None and digest is None:
        tag = "latest"
    return ImageReference(registry, "/".join(path), tag, digest)
