"""`zookeeper`: the Docker Official Image (3.9 tags), built from Debian's ZooKeeper.

Layout as in the image: the distribution at `/apache-zookeeper-<version>-bin` (on PATH,
the working directory), configuration in `/conf` (ZOOCFGDIR), data in `/data`,
transaction logs in `/datalog`, logs in `/logs`, all owned by user `zookeeper` (1000).
The image runs as root; `/docker-entrypoint.sh` drops to `zookeeper` through `gosu`
(here a setpriv wrapper) when the command is `zkServer.sh`, writes `zoo.cfg` from the
ZOO_* variables unless one exists and `myid` from ZOO_MY_ID. Debian ships 3.8.0, so the
directory name and `srvr` say 3.8.0.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from localkube.images.recipe import (
    STANDARD_PATH,
    ImageRecipe,
    accounts_with,
    chown_tree,
    host_file_inputs,
    make_dir,
    recipe_files,
    walk_files,
    write_file,
)
from localkube.images.zkdist import distribution_conf, distribution_inputs, install_distribution
from localkube.images.zookeeper import JAVA_HOME, zookeeper_version

ZK_UID = ZK_GID = 1000


def dist_dir() -> str:
    return f"/apache-zookeeper-{zookeeper_version()}-bin"


class OfficialZooKeeperRecipe(ImageRecipe):
    name = "zookeeper"
    repository = "library/zookeeper"
    version = "1"
    entrypoint = ("/docker-entrypoint.sh",)
    cmd = ("zkServer.sh", "start-foreground")
    # The image's /opt is empty; the host's stays invisible.
    private_dirs = ("opt",)

    @property
    def working_dir(self) -> str:  # type: ignore[override]
        return dist_dir()

    def env(self) -> tuple[tuple[str, str], ...]:
        return (
            ("PATH", f"{STANDARD_PATH}:{dist_dir()}/bin"),
            ("JAVA_HOME", JAVA_HOME),
            ("ZOO_CONF_DIR", "/conf"),
            ("ZOO_DATA_DIR", "/data"),
            ("ZOO_DATA_LOG_DIR", "/datalog"),
            ("ZOO_LOG_DIR", "/logs"),
            ("ZOO_TICK_TIME", "2000"),
            ("ZOO_INIT_LIMIT", "5"),
            ("ZOO_SYNC_LIMIT", "2"),
            ("ZOO_AUTOPURGE_PURGEINTERVAL", "0"),
            ("ZOO_AUTOPURGE_SNAPRETAINCOUNT", "3"),
            ("ZOO_MAX_CLIENT_CNXNS", "60"),
            ("ZOO_STANDALONE_ENABLED", "true"),
            ("ZOO_ADMINSERVER_ENABLED", "true"),
            ("ZOOCFGDIR", "/conf"),
        )

    def inputs(self) -> Iterator[tuple[str, bytes]]:
        yield from distribution_inputs()
        for rel, item in walk_files(recipe_files("zookeeper")):
            yield rel, item.read_bytes()
        yield from host_file_inputs([Path("/etc/passwd"), Path("/etc/group")])

    def build(self, layer: Path) -> None:
        owner = (ZK_UID, ZK_GID)
        dist = layer / dist_dir().lstrip("/")
        install_distribution(dist, conf=False)
        chown_tree(dist, *owner)
        files = dict(walk_files(recipe_files("zookeeper")))
        make_dir(layer / "opt")
        make_dir(layer / "conf", owner=owner)
        write_file(layer / "conf" / "zoo_sample.cfg", distribution_conf("zoo_sample.cfg"),
                   owner=owner)
        write_file(layer / "conf" / "log4j.properties", distribution_conf("log4j.properties"),
                   owner=owner)
        for sub in ("data", "datalog", "logs"):
            make_dir(layer / sub, owner=owner)
        write_file(layer / "docker-entrypoint.sh", files["docker-entrypoint.sh"].read_bytes(),
                   0o755)
        write_file(layer / "usr" / "local" / "bin" / "gosu", files["gosu"].read_bytes(), 0o755)
        passwd, group = accounts_with(
            f"zookeeper:x:{ZK_UID}:{ZK_GID}::/home/zookeeper:/bin/sh",
            f"zookeeper:x:{ZK_GID}:",
        )
        write_file(layer / "etc" / "passwd", passwd)
        write_file(layer / "etc" / "group", group)
