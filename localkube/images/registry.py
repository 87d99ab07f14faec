"""Which recipe serves which image: by the repository's last name, whatever the registry
or tag (`k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10`, `registry.k8s.io/...`,
`kubernetes-zookeeper` are all the ZooKeeper recipe)."""

from __future__ import annotations

from pathlib import Path

from localkube.images.errors import ImageNotFoundError
from localkube.images.nginx import NginxSlimRecipe
from localkube.images.recipe import Image, ImageRecipe
from localkube.images.reference import ImageReference, parse_reference
from localkube.images.zookeeper import ZooKeeperRecipe

RECIPES: dict[str, ImageRecipe] = {
    recipe.name: recipe for recipe in (ZooKeeperRecipe(), NginxSlimRecipe())
}


def known_images() -> list[str]:
    return sorted(RECIPES)


def resolve_image(image: str) -> tuple[ImageReference, ImageRecipe]:
    """Map an image string to its recipe.

    Raises `InvalidReferenceError` for malformed strings (kubelet: InvalidImageName) and
    `ImageNotFoundError` for images without a recipe (kubelet: ErrImagePull).
    """
    reference = parse_reference(image)
    recipe = RECIPES.get(reference.name)
    if recipe is None:
        raise ImageNotFoundError(str(reference), known_images())
    return reference, recipe


def pull_image(image: str, cache_dir: Path) -> Image:
    """Resolve and materialise an image (blocking: run it in a thread from asyncio)."""
    reference, recipe = resolve_image(image)
    return recipe.pull(reference, cache_dir)
