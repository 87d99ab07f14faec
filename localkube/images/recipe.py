"""Image recipes and their layers.

An image here is a recipe that materialises one *layer directory*: the files the image
adds on top of the host (scripts, symlinks, /etc/passwd, owned directories), plus the
image config (entrypoint, cmd, env, working dir). The runtime mounts the layer as the top
lower dir of overlays over the host's /usr, /etc, /opt and /var.

A layer is built once per content hash (recipe sources + the host facts it depends on),
into `<cache>/images/<name>-<hash>`: a temporary directory renamed into place under a
file lock, so concurrent pulls are safe and a finished layer is never modified.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import ClassVar

from localkube.images.errors import ImageBuildError
from localkube.images.reference import ImageReference

STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Image:
    """A pulled image: what a container is created from."""

    reference: ImageReference
    recipe: str
    layer: Path
    digest: str  # "sha256:<hex>" of the layer's inputs
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    working_dir: str
    user: str | None
    # Top-level directories the image provides entirely (not layered over the host's).
    private_dirs: tuple[str, ...] = ()

    @property
    def image_id(self) -> str:
        """What kubelet shows as containerStatuses[].imageID."""
        return f"{self.reference.locator}@{self.digest}"


class ImageRecipe(ABC):
    """Subclasses describe one image: its config and how to build its layer."""

    name: ClassVar[str]
    # When set, the recipe serves exactly this repository (`bitnami/zookeeper`,
    # `library/zookeeper` for the official image) on any registry; otherwise any repository
    # whose last path element is `name`.
    repository: ClassVar[str | None] = None
    version: ClassVar[str] = "1"
    entrypoint: ClassVar[tuple[str, ...]] = ()
    cmd: ClassVar[tuple[str, ...]] = ()
    working_dir: ClassVar[str] = "/"
    user: ClassVar[str | None] = None
    private_dirs: ClassVar[tuple[str, ...]] = ()

    def env(self) -> tuple[tuple[str, str], ...]:
        return (("PATH", STANDARD_PATH),)

    @property
    def display_name(self) -> str:
        """How users write the image (`zookeeper`, `bitnami/zookeeper`, `nginx-slim`)."""
        if self.repository is None:
            return self.name
        return self.repository.removeprefix("library/")

    @abstractmethod
    def inputs(self) -> Iterator[tuple[str, bytes]]:
        """Everything the layer depends on, as (label, bytes), for the content hash."""

    @abstractmethod
    def build(self, layer: Path) -> None:
        """Populate an empty layer directory (runs as root)."""

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(f"{self.name}\0{self.version}\0".encode())
        for label, data in self.inputs():
            h.update(label.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()

    def materialise(self, cache_dir: Path) -> tuple[Path, str]:
        """Return (layer dir, digest), building the layer if this version is missing."""
        digest = self.digest()
        images = cache_dir / "images"
        layer = images / f"{self.name}-{digest[:16]}"
        if layer.is_dir():
            return layer, digest
        images.mkdir(parents=True, exist_ok=True)
        with open(images / f".{self.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if layer.is_dir():
                return layer, digest
            tmp = Path(tempfile.mkdtemp(prefix=f".{self.name}-", dir=images))
            try:
                tmp.chmod(0o755)
                self.build(tmp)
                os.rename(tmp, layer)
            except OSError as exc:
                raise ImageBuildError(f"cannot build image {self.name}: {exc}") from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return layer, digest

    def pull(self, reference: ImageReference, cache_dir: Path) -> Image:
        layer, digest = self.materialise(cache_dir)
        return Image(
            reference=reference,
            recipe=self.name,
            layer=layer,
            digest=f"sha256:{digest}",
            entrypoint=self.entrypoint,
            cmd=self.cmd,
            env=self.env(),
            working_dir=self.working_dir,
            user=self.user,
            private_dirs=self.private_dirs,
        )


# Helpers for recipes -------------------------------------------------------------------


def recipe_files(name: str) -> Traversable:
    """The directory of static files shipped for recipe `name` (package data)."""
    return resources.files("localkube.images").joinpath("files", name)


def walk_files(root: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """(relative path, file) for every file below a package-data directory, sorted."""
    for child in sorted(root.iterdir(), key=lambda t: t.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            yield from walk_files(child, rel + "/")
        elif child.name != "__pycache__" and not child.name.endswith(".pyc"):
            yield rel, child


def write_file(path: Path, data: bytes, mode: int = 0o644, owner: tuple[int, int] = (0, 0)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    os.chown(path, *owner)


def make_dir(path: Path, mode: int = 0o755, owner: tuple[int, int] = (0, 0)) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    os.chown(path, *owner)


def symlink(path: Path, target: str, owner: tuple[int, int] = (0, 0)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    os.chown(path, *owner, follow_symlinks=False)


def mark_opaque(path: Path) -> None:
    """Hide the host's directory of the same path below this layer directory."""
    # Without trusted xattrs the host's entries simply show through.
    with contextlib.suppress(OSError):
        os.setxattr(path, "trusted.overlay.opaque", b"y")


def chown_tree(root: Path, uid: int, gid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def accounts_with(
    passwd_line: str, group_line: str, etc: Path = Path("/etc")
) -> tuple[bytes, bytes]:
    """The host's /etc/passwd and /etc/group with one user/group replacing any clash.

    An image ships its own account database; here it is the host's (the layer overlays
    the host's /etc) plus the image's user, which evicts host entries with the same
    name or id.
    """

    def merged(path: Path, line: str) -> bytes:
        name, _, ident = line.split(":")[:3]
        kept = []
        for existing in path.read_text().splitlines():
            fields = existing.split(":")
            if len(fields) > 2 and (fields[0] == name or fields[2] == ident):
                continue
            kept.append(existing)
        kept.append(line)
        return ("\n".join(kept) + "\n").encode()

    return merged(etc / "passwd", passwd_line), merged(etc / "group", group_line)


def host_file_inputs(paths: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    for path in paths:
        try:
            yield str(path), path.read_bytes()
        except OSError:
            yield str(path), b""


def is_executable(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & stat.S_IXUSR)
    except OSError:
        return False
