"""An Apache ZooKeeper binary distribution (`bin/`, `conf/`, `lib/`) made of Debian's jars.

The official, Bitnami and Pravega images all unpack the upstream tarball somewhere; the
recipes call `install_distribution` to put one at their path. The scripts in `bin/` are
localkube's own (`files/zookeeper-dist/`), behaving like upstream's for what the images'
entry points use; the jars are Debian's ZooKeeper 3.8 (there is no 3.9 package), so
`srvr` reports 3.8.0 where the real images report 3.9.x. Upstream's `lib/` carries the
servlet API next to Jetty; Debian's jetty9 jars do not name it in their manifests, so it
is linked here too, else ZooKeeper logs "Unable to load jetty" and runs without the
AdminServer the official image serves on :8080.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from localkube.images.errors import ImageBuildError
from localkube.images.recipe import (
    make_dir,
    recipe_files,
    symlink,
    walk_files,
    write_file,
)
from localkube.images.zookeeper import JARS, JAVA_DIR, zookeeper_version

DIST_FILES = "zookeeper-dist"
# The jars in lib/: the server's, plus the servlet API the AdminServer's Jetty needs
# (Debian's libservlet-api-java, a dependency of libjetty9-java).
DIST_JARS = (*JARS, "servlet-api")


def distribution_inputs() -> Iterator[tuple[str, bytes]]:
    """What a layer holding the distribution depends on (for the recipe's digest)."""
    yield "zookeeper-version", zookeeper_version().encode()
    yield "jars", " ".join(DIST_JARS).encode()
    for rel, item in walk_files(recipe_files(DIST_FILES)):
        yield f"{DIST_FILES}/{rel}", item.read_bytes()


def install_distribution(root: Path, *, conf: bool = True) -> str:
    """Write bin/, lib/ (and conf/ unless the image moves it) under `root`; the version."""
    version = zookeeper_version()
    make_dir(root)
    for rel, item in walk_files(recipe_files(DIST_FILES)):
        if rel.startswith("bin/"):
            write_file(root / rel, item.read_bytes(), 0o755)
        elif rel == "conf/log4j-cli.properties":
            write_file(root / "lib" / "localkube" / "log4j-cli.properties", item.read_bytes())
        elif conf:
            write_file(root / rel, item.read_bytes())
    for jar in DIST_JARS:
        target = JAVA_DIR / f"{jar}.jar"
        if not target.exists():
            raise ImageBuildError(f"ZooKeeper images need {target} (missing)")
        link = f"{jar}-{version}.jar" if jar.startswith("zookeeper") else f"{jar}.jar"
        symlink(root / "lib" / link, str(target))
    return version


def distribution_conf(name: str) -> bytes:
    """A file of the distribution's conf/ (e.g. for an image that moves conf elsewhere)."""
    return recipe_files(DIST_FILES).joinpath("conf", name).read_bytes()
