"""`pravega/zookeeper`: the image the Pravega zookeeper-operator runs, from Debian's ZooKeeper.

The image is the official `zookeeper` image (see `official.py`) plus, in
`/usr/local/bin`, the operator's scripts: `zookeeperStart.sh` (the container command),
`zookeeperReady.sh` / `zookeeperLive.sh` (probes), `zookeeperTeardown.sh` (preStop),
`zookeeperFunctions.sh`, and the membership tool `/opt/libs/zu`. Members join through
ZooKeeper's dynamic reconfiguration, which Debian's 3.8 supports like 3.9. The operator's
command replaces the entrypoint, so the container runs as root, as the real one does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from localkube.images.official import OfficialZooKeeperRecipe
from localkube.images.recipe import make_dir, recipe_files, walk_files, write_file


class PravegaZooKeeperRecipe(OfficialZooKeeperRecipe):
    name = "pravega-zookeeper"
    repository = "pravega/zookeeper"
    version = "1"

    def inputs(self) -> Iterator[tuple[str, bytes]]:
        yield from super().inputs()
        for rel, item in walk_files(recipe_files("pravega-zookeeper")):
            yield f"pravega/{rel}", item.read_bytes()

    def build(self, layer: Path) -> None:
        super().build(layer)
        for rel, item in walk_files(recipe_files("pravega-zookeeper")):
            name = rel.removeprefix("bin/")
            if name == "zu":
                make_dir(layer / "opt" / "libs")
                write_file(layer / "opt" / "libs" / "zu", item.read_bytes(), 0o755)
            else:
                write_file(layer / "usr" / "local" / "bin" / name, item.read_bytes(), 0o755)
