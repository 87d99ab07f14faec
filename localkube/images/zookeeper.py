"""`kubernetes-zookeeper`: the tutorial's image, built from Debian's ZooKeeper package.

Mimics k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10: ZooKeeper under
`/opt/zookeeper-<version>` with `/opt/zookeeper` linking to it, every script of its `bin/`
linked from `/usr/bin` (so removing either `/usr/bin/zookeeper-ready` or the script itself
breaks the probe), `/usr/etc/zookeeper` linking to the conf dir, a `zookeeper` user and
group with id 1000 owning the distribution and the data and log directories. The jars are
Debian's (`/usr/share/java`), linked into `lib/`; the scripts are localkube's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from localkube.images.errors import ImageBuildError
from localkube.images.recipe import (
    STANDARD_PATH,
    ImageRecipe,
    accounts_with,
    chown_tree,
    host_file_inputs,
    make_dir,
    mark_opaque,
    recipe_files,
    symlink,
    walk_files,
    write_file,
)

JAVA_DIR = Path("/usr/share/java")
JAVA_HOME = "/usr/lib/jvm/default-java"
ZK_UID = ZK_GID = 1000
# Jars on the classpath; zookeeper.jar's manifest pulls in the rest (netty, jetty, ...).
# Debian's ZooKeeper has no logging backend of its own: without slf4j-log4j12 and log4j
# every log line is dropped.
JARS = ("zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-log4j12", "log4j-1.2")


def zookeeper_version(java_dir: Path = JAVA_DIR) -> str:
    """Version of the installed Debian package, from its versioned jar link."""
    if not (java_dir / "zookeeper.jar").exists():
        raise ImageBuildError(
            "image kubernetes-zookeeper needs Debian's ZooKeeper: run `apt-get install zookeeper`"
        )
    for path in sorted(java_dir.glob("zookeeper-[0-9]*.jar")):
        match = re.fullmatch(r"zookeeper-(\d[\w.]*)\.jar", path.name)
        if match:
            return match.group(1)
    return "unknown"


class ZooKeeperRecipe(ImageRecipe):
    name = "kubernetes-zookeeper"
    version = "1"
    cmd = ("/bin/bash",)
    # The real image's /opt holds ZooKeeper only; the host's /opt stays invisible.
    private_dirs = ("opt",)

    def env(self) -> tuple[tuple[str, str], ...]:
        return (
            ("PATH", STANDARD_PATH),
            ("ZK_USER", "zookeeper"),
            ("ZK_DATA_DIR", "/var/lib/zookeeper/data"),
            ("ZK_DATA_LOG_DIR", "/var/lib/zookeeper/log"),
            ("ZK_LOG_DIR", "/var/log/zookeeper"),
            ("JAVA_HOME", JAVA_HOME),
        )

    def inputs(self) -> Iterator[tuple[str, bytes]]:
        yield "zookeeper-version", zookeeper_version().encode()
        for rel, item in walk_files(recipe_files(self.name)):
            yield rel, item.read_bytes()
        yield from host_file_inputs([Path("/etc/passwd"), Path("/etc/group")])

    def build(self, layer: Path) -> None:
        version = zookeeper_version()
        owner = (ZK_UID, ZK_GID)
        dist = layer / "opt" / f"zookeeper-{version}"
        make_dir(layer / "opt")
        make_dir(dist)

        scripts = []
        for rel, item in walk_files(recipe_files(self.name)):
            mode = 0o755 if rel.startswith("bin/") else 0o644
            write_file(dist / rel, item.read_bytes(), mode)
            if rel.startswith("bin/"):
                scripts.append(rel.removeprefix("bin/"))
        make_dir(dist / "lib")
        for jar in JARS:
            target = JAVA_DIR / f"{jar}.jar"
            if not target.exists():
                raise ImageBuildError(f"image kubernetes-zookeeper needs {target} (missing)")
            link = f"{jar}-{version}.jar" if jar.startswith("zookeeper") else f"{jar}.jar"
            symlink(dist / "lib" / link, str(target))
        chown_tree(dist, *owner)
        symlink(layer / "opt" / "zookeeper", dist.name)

        for script in scripts:
            symlink(layer / "usr" / "bin" / script, f"/opt/zookeeper/bin/{script}")
        symlink(layer / "usr" / "etc" / "zookeeper", "/opt/zookeeper/conf/")

        make_dir(layer / "var" / "lib" / "zookeeper")
        mark_opaque(layer / "var" / "lib" / "zookeeper")
        for sub in ("data", "log"):
            make_dir(layer / "var" / "lib" / "zookeeper" / sub, owner=owner)
        make_dir(layer / "var" / "log" / "zookeeper", owner=owner)
        mark_opaque(layer / "var" / "log" / "zookeeper")

        passwd, group = accounts_with(
            f"zookeeper:x:{ZK_UID}:{ZK_GID}::/home/zookeeper:/bin/sh",
            f"zookeeper:x:{ZK_GID}:",
        )
        write_file(layer / "etc" / "passwd", passwd)
        write_file(layer / "etc" / "group", group)
