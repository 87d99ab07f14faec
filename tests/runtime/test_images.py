"""Image names, recipes and their layers."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from localkube.images import (
    ImageNotFoundError,
    InvalidReferenceError,
    parse_reference,
    pull_image,
    resolve_image,
)

from .conftest import require_zookeeper


@pytest.mark.parametrize(
    ("image", "normalised"),
    [
        ("registry.k8s.io/zk:1.0", "registry.k8s.io/zk:1.0"),
        ("kubernetes-zookeeper", "docker.io/library/kubernetes-zookeeper:latest"),
        ("foo/bar", "docker.io/foo/bar:latest"),
        ("localhost:5000/zk@sha256:" + "a" * 64, "localhost:5000/zk@sha256:" + "a" * 64),
    ],
)
def test_references_are_normalised_like_container_runtimes(image: str, normalised: str) -> None:
    assert str(parse_reference(image)) == normalised


@pytest.mark.parametrize(
    "image",
    [
        "k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10",
        "registry.k8s.io/kubernetes-zookeeper:1.0-3.4.10",
        "kubernetes-zookeeper",
        "gcr.io/google_containers/nginx-slim:0.8",
        "registry.k8s.io/nginx-slim:0.21",
    ],
)
def test_recipes_are_found_by_name_whatever_the_registry(image: str) -> None:
    reference, recipe = resolve_image(image)
    assert recipe.name == reference.name


@pytest.mark.parametrize(
    ("image", "recipe"),
    [
        ("zookeeper:3.9", "zookeeper"),
        ("docker.io/library/zookeeper:3.9.3", "zookeeper"),
        ("bitnami/zookeeper:3.9.3-debian-12-r21", "bitnami-zookeeper"),
        ("registry-1.docker.io/bitnami/zookeeper:3.9", "bitnami-zookeeper"),
        ("pravega/zookeeper:0.2.15", "pravega-zookeeper"),
    ],
)
def test_repository_recipes_match_the_whole_repository(image: str, recipe: str) -> None:
    assert resolve_image(image)[1].name == recipe


def test_a_repository_recipe_does_not_serve_other_owners() -> None:
    with pytest.raises(ImageNotFoundError):
        resolve_image("someone/zookeeper:3.9")


def test_unknown_images_fail_like_a_pull() -> None:
    with pytest.raises(ImageNotFoundError) as err:
        resolve_image("foo:1")
    assert str(err.value) == (
        'failed to pull and unpack image "docker.io/library/foo:1": image not available in '
        "localkube (known images: bitnami/zookeeper, kubernetes-zookeeper, nginx-slim, "
        "pravega/zookeeper, zookeeper)"
    )
    with pytest.raises(InvalidReferenceError):
        resolve_image("Not A Name")


def test_zookeeper_layer_is_built_once_and_safely_in_parallel(tmp_path: Path) -> None:
    require_zookeeper()
    with ThreadPoolExecutor(4) as pool:
        images = list(pool.map(lambda _: pull_image("kubernetes-zookeeper", tmp_path), range(4)))
    assert len({image.layer for image in images}) == 1
    assert [p.name for p in (tmp_path / "images").iterdir() if not p.name.startswith(".")] == [
        images[0].layer.name
    ]
    layer = images[0].layer
    assert os.readlink(layer / "usr/bin/zookeeper-ready") == "/opt/zookeeper/bin/zookeeper-ready"
    dist = (layer / "opt/zookeeper").resolve()
    ready = dist / "bin" / "zookeeper-ready"
    assert ready.stat().st_mode & stat.S_IXOTH
    assert (dist.stat().st_uid, dist.stat().st_gid) == (1000, 1000)
    assert "zookeeper:x:1000:1000:" in (layer / "etc/passwd").read_text()
    assert "zookeeper:x:1000:" in (layer / "etc/group").read_text()
    assert images[0].image_id.startswith("docker.io/library/kubernetes-zookeeper@sha256:")
    assert "opt" in images[0].private_dirs
