"""Image specifics in one object, so a second ZooKeeper image is a new profile, not edits.

``kubernetes-zookeeper`` is the tutorial's image (``k8s.gcr.io/kubernetes-zookeeper``, also
localkube's recipe): ZooKeeper under ``/opt/zookeeper`` with its scripts linked into
``/usr/bin``, started by ``start-zookeeper --flag=value ...`` which writes zoo.cfg. Pure data
(no I/O); it lives beside the zk code that uses it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from harness.errors import ConfigError

# start-zookeeper flag -> the zoo.cfg key it sets
FLAG_TO_ZOOCFG: Mapping[str, str] = MappingProxyType(
    {
        "client_port": "clientPort",
        "data_dir": "dataDir",
        "data_log_dir": "dataLogDir",
        "tick_time": "tickTime",
        "init_limit": "initLimit",
        "sync_limit": "syncLimit",
        "max_client_cnxns": "maxClientCnxns",
        "min_session_timeout": "minSessionTimeout",
        "max_session_timeout": "maxSessionTimeout",
        "snap_retain_count": "autopurge.snapRetainCount",
        "purge_interval": "autopurge.purgeInterval",
    }
)


@dataclass(frozen=True)
class ImageProfile:
    name: str
    image_names: tuple[str, ...]  # repository base names this profile applies to
    container: str  # container name in the tutorial manifest
    process_name: str  # what `pkill <name>` kills to crash the server
    ready_script: str  # the probe script's real file
    ready_script_on_path: str  # what `sh -c "zookeeper-ready 2181"` runs; the tutorial rm's it
    zkcli: str
    data_dir: str
    conf_path: str
    log_config_path: str
    client_port: int = 2181
    server_port: int = 2888
    election_port: int = 3888
    run_as_user: int = 1000
    fs_group: int = 1000
    start_flags: Mapping[str, str] = field(default_factory=dict)

    @property
    def myid_path(self) -> str:
        return f"{self.data_dir}/myid"

    def expected_zoo_cfg(self, flags: Mapping[str, str] | None = None) -> dict[str, str]:
        """zoo.cfg values the start flags ask for (``flags`` defaults to the manifest's)."""
        given = self.start_flags if flags is None else flags
        return {FLAG_TO_ZOOCFG[k]: v for k, v in given.items() if k in FLAG_TO_ZOOCFG}

    def matches_image(self, image: str) -> bool:
        """``k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10`` matches ``kubernetes-zookeeper``."""
        base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
        return base in self.image_names


def parse_start_flags(command: str) -> dict[str, str]:
    """``start-zookeeper --servers=3 --heap=512M`` -> ``{"servers": "3", "heap": "512M"}``."""
    flags: dict[str, str] = {}
    for word in shlex.split(command):
        if word.startswith("--") and "=" in word:
            key, _, value = word[2:].partition("=")
            flags[key] = value
    return flags


KUBERNETES_ZOOKEEPER = ImageProfile(
    name="kubernetes-zookeeper",
    image_names=("kubernetes-zookeeper",),
    container="kubernetes-zookeeper",
    process_name="java",
    ready_script="/opt/zookeeper/bin/zookeeper-ready",
    ready_script_on_path="/usr/bin/zookeeper-ready",
    zkcli="/opt/zookeeper/bin/zkCli.sh",
    data_dir="/var/lib/zookeeper/data",
    conf_path="/opt/zookeeper/conf/zoo.cfg",
    log_config_path="/opt/zookeeper/conf/log4j.properties",
    start_flags=MappingProxyType(
        parse_start_flags(
            "start-zookeeper --servers=3 --data_dir=/var/lib/zookeeper/data"
            " --data_log_dir=/var/lib/zookeeper/data/log --conf_dir=/opt/zookeeper/conf"
            " --client_port=2181 --election_port=3888 --server_port=2888 --tick_time=2000"
            " --init_limit=10 --sync_limit=5 --heap=512M --max_client_cnxns=60"
            " --snap_retain_count=3 --purge_interval=12 --max_session_timeout=40000"
            " --min_session_timeout=4000 --log_level=INFO"
        )
    ),
)

_PROFILES: dict[str, ImageProfile] = {KUBERNETES_ZOOKEEPER.name: KUBERNETES_ZOOKEEPER}


def register_profile(profile: ImageProfile) -> None:
    if profile.name in _PROFILES and _PROFILES[profile.name] != profile:
        raise ValueError(f"a different profile named {profile.name!r} is already registered")
    _PROFILES[profile.name] = profile


def profile_names() -> list[str]:
    return sorted(_PROFILES)


def get_profile(name: str) -> ImageProfile:
    try:
        return _PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"unknown ZooKeeper image profile {name!r}; known: {', '.join(profile_names())}",
            hint="use --zk-profile=kubernetes-zookeeper or register a profile for your image",
        ) from None


def profile_for_image(image: str) -> ImageProfile | None:
    """The registered profile whose image names match ``image``, if exactly one does."""
    found = [p for p in _PROFILES.values() if p.matches_image(image)]
    return found[0] if len(found) == 1 else None
