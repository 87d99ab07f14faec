"""Which recipe serves which image.

Recipes with a `repository` serve that repository on any registry and tag
(`zookeeper:3.9` and `docker.io/library/zookeeper` are the official image,
`bitnami/zookeeper:3.9.3-debian-12-r21` is Bitnami's, `pravega/zookeeper:0.2.15` is
Pravega's). The others serve any repository whose last name matches
(`k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10`, `registry.k8s.io/...`,
`kubernetes-zookeeper` are all the tutorial's ZooKeeper recipe).
"""

from __future__ import annotations

from pathlib import Path

from localkube.images.bitnami import BitnamiZooKeeperRecipe
from localkube.images.errors import ImageNotFoundError
from localkube.images.nginx import NginxSlimRecipe
from localkube.images.official import OfficialZooKeeperRecipe
from localkube.images.pravega import PravegaZooKeeperRecipe
from localkube.images.recipe import Image, ImageRecipe
from localkube.images.reference import ImageReference, parse_reference
from localkube.images.zookeeper import ZooKeeperRecipe

_ALL: tuple[ImageRecipe, ...] = (
    ZooKeeperRecipe(),
    NginxSlimRecipe(),
    OfficialZooKeeperRecipe(),
    BitnamiZooKeeperRecipe(),
    PravegaZooKeeperRecipe(),
)
BY_REPOSITORY: dict[str, ImageRecipe] = {r.repository: r for r in _ALL if r.repository}
BY_NAME: dict[str, ImageRecipe] = {r.name: r for r in _ALL if not r.repository}
# Kept for callers that look recipes up by their own name.
RECIPES: dict[str, ImageRecipe] = {r.name: r for r in _ALL}


def known_images() -> list[str]:
    return sorted(r.display_name for r in _ALL)


def recipe_for(reference: ImageReference) -> ImageRecipe | None:
    return BY_REPOSITORY.get(reference.repository) or BY_NAME.get(reference.name)


def resolve_image(image: str) -> tuple[ImageReference, ImageRecipe]:
    """Map an image string to its recipe.

    Raises `InvalidReferenceError` for malformed strings (kubelet: InvalidImageName) and
    `ImageNotFoundError` for images without a recipe (kubelet: ErrImagePull).
    """
    reference = parse_reference(image)
    recipe = recipe_for(reference)
    if recipe is None:
        raise ImageNotFoundError(str(reference), known_images())
    return reference, recipe


def pull_image(image: str, cache_dir: Path) -> Image:
    """Resolve and materialise an image (blocking: run it in a thread from asyncio)."""
    reference, recipe = resolve_image(image)
    return recipe.pull(reference, cache_dir)
