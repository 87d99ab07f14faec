"""`bitnami/zookeeper` (3.9 tags): Bitnami's image as its chart runs it, from Debian's ZooKeeper.

Layout as in the image: the distribution at `/opt/bitnami/zookeeper` (`bin/` on PATH,
`conf/` filled at start from `conf.default/`, `logs/`), Java linked at
`/opt/bitnami/java`, the scripts under `/opt/bitnami/scripts` (`zookeeper-env.sh`,
`libzookeeper.sh`, `zookeeper/{entrypoint,setup,run,healthcheck}.sh`), `/entrypoint.sh` and
`/run.sh` linking to them (the chart's `setup.sh` runs `/entrypoint.sh /run.sh`), data under
`/bitnami/zookeeper/data`. USER 1001 with no passwd entry, HOME=/. Every directory the
scripts write to is meant to be a volume (the chart mounts emptyDirs on `/tmp`, `conf` and
`logs`), so the image works with a read-only root file system.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from localkube.images.recipe import (
    STANDARD_PATH,
    ImageRecipe,
    make_dir,
    recipe_files,
    symlink,
    walk_files,
    write_file,
)
from localkube.images.zkdist import distribution_conf, distribution_inputs, install_distribution
from localkube.images.zookeeper import JAVA_HOME, zookeeper_version

ROOT = "opt/bitnami"
GROUP_WRITABLE = 0o775


class BitnamiZooKeeperRecipe(ImageRecipe):
    name = "bitnami-zookeeper"
    repository = "bitnami/zookeeper"
    version = "1"
    entrypoint = ("/opt/bitnami/scripts/zookeeper/entrypoint.sh",)
    cmd = ("/opt/bitnami/scripts/zookeeper/run.sh",)
    user = "1001"
    private_dirs = ("opt",)

    def env(self) -> tuple[tuple[str, str], ...]:
        return (
            ("HOME", "/"),
            ("OS_ARCH", "amd64"),
            ("OS_FLAVOUR", "debian-12"),
            ("OS_NAME", "linux"),
            ("PATH", "/opt/bitnami/common/bin:/opt/bitnami/java/bin:"
                     f"/opt/bitnami/zookeeper/bin:{STANDARD_PATH}"),
            ("JAVA_HOME", "/opt/bitnami/java"),
            ("APP_VERSION", zookeeper_version()),
            ("BITNAMI_APP_NAME", "zookeeper"),
        )

    def inputs(self) -> Iterator[tuple[str, bytes]]:
        yield from distribution_inputs()
        for rel, item in walk_files(recipe_files(self.name)):
            yield rel, item.read_bytes()

    def build(self, layer: Path) -> None:
        make_dir(layer / "opt")
        make_dir(layer / ROOT, GROUP_WRITABLE)
        base = layer / ROOT / "zookeeper"
        install_distribution(base, conf=False)
        base.chmod(GROUP_WRITABLE)
        for sub in ("conf", "conf.default", "logs"):
            make_dir(base / sub, GROUP_WRITABLE)
        for name in ("zoo_sample.cfg", "log4j.properties"):
            write_file(base / "conf.default" / name, distribution_conf(name), 0o664)
        symlink(layer / ROOT / "java", JAVA_HOME)
        for rel, item in walk_files(recipe_files(self.name)):
            write_file(layer / ROOT / rel, item.read_bytes(), 0o755)
        make_dir(layer / "bitnami", GROUP_WRITABLE)
        make_dir(layer / "bitnami" / "zookeeper", GROUP_WRITABLE)
        symlink(layer / "entrypoint.sh", "/opt/bitnami/scripts/zookeeper/entrypoint.sh")
        symlink(layer / "run.sh", "/opt/bitnami/scripts/zookeeper/run.sh")
