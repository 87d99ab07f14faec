"""Image specifics as data: a profile says what a drill must know about a ZooKeeper image.

Profiles are YAML files: the ones shipped in ``harness/profiles/`` (the tutorial's
``kubernetes-zookeeper``, ``bitnami/zookeeper``, the official ``zookeeper`` and
``pravega/zookeeper``), or a user's file passed as ``--zk-profile=PATH.yaml``.
``--zk-profile=auto`` (the default) picks the shipped profile whose ``images`` name the
repository of the StatefulSet's container image (``resolve_profile``). A file that does not
parse, lacks a field or has one of the wrong type is one ``ConfigError`` naming the file
and the field. No I/O beyond reading those files.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from harness.errors import ConfigError

PROFILE_DIR = Path(__file__).resolve().parent.parent / "profiles"
PROFILE_HINT = ("copy one of harness/profiles/*.yaml, set the values of your image and pass "
                "--zk-profile=PATH.yaml")

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
class Probe:
    """How one of the image's probes works: ``exec`` a script, ``tcpSocket`` or ``none``."""

    kind: str
    script: str | None = None  # the file an exec probe runs (removing it fails the probe)
    port: int | None = None

    def describe(self) -> str:
        if self.kind == "exec":
            return f"exec {self.script}"
        return f"tcpSocket :{self.port}" if self.kind == "tcpSocket" else "none"


@dataclass(frozen=True)
class ImageProfile:
    name: str
    image_names: tuple[str, ...]  # repositories (registry host dropped) this profile runs
    container: str  # the container's name in the usual manifest
    process_name: str  # what `pkill <name>` kills to crash the server
    ready_script: str | None  # the readiness probe's script (None: not a script)
    ready_script_on_path: str | None  # what the probe's shell runs (the tutorial rm's it)
    zkcli: str
    data_dir: str
    conf_path: str
    log_config_path: str | None
    client_port: int = 2181
    server_port: int = 2888
    election_port: int = 3888
    run_as_user: int = 1000
    fs_group: int = 1000
    start_flags: Mapping[str, str] = field(default_factory=dict)
    liveness: Probe = Probe("exec")
    readiness: Probe = Probe("exec")
    script_removable: bool = True  # can `rm` make the probes fail (writable, script-based)
    read_only_root: bool = False
    myid_source: str = "start-flags"
    config_source: str = "start-flags"  # start-flags | env | configmap
    four_letter_words: tuple[str, ...] = ("*",)  # "*": every word
    admin_server: bool = False  # the AdminServer (HTTP, JSON) runs, on admin_port
    admin_port: int = 8080
    source: str = "built in"  # the file it was read from

    @property
    def myid_path(self) -> str:
        return f"{self.data_dir}/myid"

    @property
    def live_script(self) -> str | None:
        return self.liveness.script if self.liveness.kind == "exec" else None

    def allows(self, word: str) -> bool:
        """Is the four-letter word ``word`` whitelisted in this image's usual config?"""
        return "*" in self.four_letter_words or word in self.four_letter_words

    def reads_through_admin_server(self, word: str) -> bool:
        """Ask the AdminServer for ``word`` (``srvr``, ``mntr``, ...)? Only when the image
        does not whitelist the word but runs the AdminServer; the 4lw stays the default."""
        return self.admin_server and not self.allows(word)

    def expected_zoo_cfg(self, flags: Mapping[str, str] | None = None) -> dict[str, str]:
        """zoo.cfg values the start flags ask for (``flags`` defaults to the manifest's)."""
        given = self.start_flags if flags is None else flags
        return {FLAG_TO_ZOOCFG[k]: v for k, v in given.items() if k in FLAG_TO_ZOOCFG}

    def matches_image(self, image: str) -> bool:
        """``k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10`` matches ``kubernetes-zookeeper``;
        ``docker.io/library/zookeeper:3.9`` matches ``zookeeper``, not ``bitnami/zookeeper``."""
        return image_repository(image) in self.image_names


def image_repository(image: str) -> str:
    """The repository of an image reference without registry host, tag or digest:
    ``docker.io/library/zookeeper:3.9@sha256:..`` -> ``zookeeper``."""
    ref = image.split("@", 1)[0]
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    last = parts[-1].split(":", 1)[0]
    parts = [*parts[:-1], last]
    if parts[0] == "library" and len(parts) == 2:
        parts = parts[1:]
    return "/".join(parts)


def parse_start_flags(command: str) -> dict[str, str]:
    """``start-zookeeper --servers=3 --heap=512M`` -> ``{"servers": "3", "heap": "512M"}``."""
    flags: dict[str, str] = {}
    for word in shlex.split(command):
        if word.startswith("--") and "=" in word:
            key, _, value = word[2:].partition("=")
            flags[key] = value
    return flags


# -- loading and validating profile files --------------------------------------------------------

REQUIRED = ("name", "images", "container", "process", "probes", "read_only_root", "zkcli",
            "data_dir", "conf_path", "log_config", "myid", "config", "user",
            "four_letter_words", "admin_server")
CONFIG_SOURCES = ("start-flags", "env", "configmap")


class _Fields:
    """Typed reads of one profile document; the first bad field is a one-line ConfigError."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data, self.where = data, where

    def fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"profile {self.where}: field {key!r} {what}", hint=PROFILE_HINT)

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(key, "is missing")
        return self.data[key]

    def text(self, key: str, *, optional: bool = False) -> str | None:
        value = self.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string" + (" or null" if optional else ""))
        return value.strip()

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def words(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if value == "all":
            return ("*",)
        if isinstance(value, str):
            value = [w.strip() for w in value.split(",")]
        if not isinstance(value, list) or not value or not all(
                isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, "must be a non-empty list of strings")
        return tuple(v.strip() for v in value)


def _probe(fields: _Fields, key: str, value: Any) -> Probe:
    if value in (None, "none"):
        return Probe("none")
    if isinstance(value, Mapping) and len(value) == 1:
        kind, arg = next(iter(value.items()))
        if kind == "exec" and isinstance(arg, str) and arg.startswith("/"):
            return Probe("exec", script=arg)
        if kind == "tcpSocket" and isinstance(arg, int) and not isinstance(arg, bool):
            return Probe("tcpSocket", port=arg)
    raise fields.fail(f"probes.{key}", "must be none, {exec: /absolute/script} or "
                                       "{tcpSocket: PORT}")


def profile_from_data(data: Any, where: str) -> ImageProfile:
    """An ``ImageProfile`` from a parsed profile document (``where`` names it in errors)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"profile {where} is not a mapping of fields", hint=PROFILE_HINT)
    f = _Fields(data, where)
    for key in REQUIRED:
        f.get(key)
    probes = f.get("probes")
    if not isinstance(probes, Mapping):
        raise f.fail("probes", "must be a mapping with liveness, readiness, script_removable")
    pf = _Fields(probes, where)
    liveness = _probe(f, "liveness", pf.get("liveness"))
    readiness = _probe(f, "readiness", pf.get("readiness"))
    removable = probes.get("script_removable", False)
    if not isinstance(removable, bool):
        raise f.fail("probes.script_removable", "must be true or false")
    user = f.get("user")
    if not isinstance(user, Mapping) or not all(
            isinstance(user.get(k), int) and not isinstance(user.get(k), bool)
            for k in ("uid", "gid")):
        raise f.fail("user", "must be {uid: N, gid: N}")
    config = f.text("config")
    if config not in CONFIG_SOURCES:
        raise f.fail("config", f"must be one of {', '.join(CONFIG_SOURCES)}")
    start = data.get("start_command")
    if config == "start-flags" and not isinstance(start, str):
        raise f.fail("start_command", "is missing (config: start-flags needs the start command)")
    ports = data.get("ports") or {}
    if not isinstance(ports, Mapping) or not all(
            isinstance(v, int) for v in ports.values()):
        raise f.fail("ports", "must map client/server/election to port numbers")
    read_only = f.flag("read_only_root")
    admin_port = data.get("admin_port", 8080)
    if not isinstance(admin_port, int) or isinstance(admin_port, bool) or not (
            0 < admin_port < 65536):
        raise f.fail("admin_port", "must be a port number (default 8080)")
    return ImageProfile(
        name=str(f.text("name")),
        image_names=f.words("images"),
        container=str(f.text("container")),
        process_name=str(f.text("process")),
        ready_script=readiness.script,
        ready_script_on_path=probes.get("script_on_path") or readiness.script,
        zkcli=str(f.text("zkcli")),
        data_dir=str(f.text("data_dir")),
        conf_path=str(f.text("conf_path")),
        log_config_path=f.text("log_config", optional=True),
        client_port=int(ports.get("client", 2181)),
        server_port=int(ports.get("server", 2888)),
        election_port=int(ports.get("election", 3888)),
        run_as_user=int(user["uid"]),
        fs_group=int(user["gid"]),
        start_flags=MappingProxyType(parse_start_flags(start) if isinstance(start, str) else {}),
        liveness=liveness,
        readiness=readiness,
        script_removable=removable and not read_only,
        read_only_root=read_only,
        myid_source=str(f.text("myid")),
        config_source=config,
        four_letter_words=f.words("four_letter_words"),
        admin_server=f.flag("admin_server"),
        admin_port=admin_port,
        source=where,
    )


def load_profile_file(path: Path | str) -> ImageProfile:
    """Read and check one profile file; a bad one is one ``ConfigError``."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read profile {path}: {exc.strerror or exc}",
                          hint=PROFILE_HINT) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"profile {path} is not valid YAML{at}: "
                          f"{getattr(exc, 'problem', None) or exc}", hint=PROFILE_HINT) from None
    return profile_from_data(data, str(path))


def _builtin() -> dict[str, ImageProfile]:
    found: dict[str, ImageProfile] = {}
    for path in sorted(PROFILE_DIR.glob("*.yaml")):
        profile = load_profile_file(path)
        profile = replace(profile, source=f"harness/profiles/{path.name}")
        found[profile.name] = profile
    return found


_PROFILES: dict[str, ImageProfile] = _builtin()
KUBERNETES_ZOOKEEPER = _PROFILES["kubernetes-zookeeper"]
AUTO = "auto"


def register_profile(profile: ImageProfile) -> None:
    if profile.name in _PROFILES and _PROFILES[profile.name] != profile:
        raise ValueError(f"a different profile named {profile.name!r} is already registered")
    _PROFILES[profile.name] = profile


def profile_names() -> list[str]:
    return sorted(_PROFILES)


def is_profile_file(setting: str) -> bool:
    return setting.endswith((".yaml", ".yml")) or "/" in setting


def get_profile(name: str) -> ImageProfile:
    """A shipped (or registered) profile by name, or a profile file by path."""
    if is_profile_file(name):
        return load_profile_file(name)
    try:
        return _PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"unknown ZooKeeper image profile {name!r}; known: {', '.join(profile_names())}",
            hint=f"use --zk-profile=auto, one of those names, or {PROFILE_HINT}",
        ) from None


def profile_for_image(image: str) -> ImageProfile | None:
    """The registered profile whose image names match ``image``, if exactly one does."""
    found = [p for p in _PROFILES.values() if p.matches_image(image)]
    return found[0] if len(found) == 1 else None


def resolve_profile(setting: str, statefulset: Mapping[str, Any], *,
                    image: str | None = None) -> ImageProfile:
    """The profile for ``statefulset``: ``setting`` names one (or a file), or is ``auto``:
    the profile of its container's image (``image``, i.e. ``--image``, wins), with that
    container's name. An image no profile knows is one ``ConfigError`` saying how to write one.
    """
    name = (statefulset.get("metadata") or {}).get("name", "?")
    containers: Sequence[Mapping[str, Any]] = (
        ((statefulset.get("spec") or {}).get("template") or {}).get("spec") or {}
    ).get("containers") or []
    if setting != AUTO:
        return get_profile(setting)
    if not containers:
        raise ConfigError(f"statefulset {name} has no containers", hint=PROFILE_HINT)
    images = [(str(c.get("name")), image if image and len(containers) == 1
               else str(c.get("image") or "")) for c in containers]
    matched = [(cname, img, profile_for_image(img)) for cname, img in images]
    known = [(cname, p) for cname, _img, p in matched if p is not None]
    if len(known) == 1:
        cname, profile = known[0]
        return profile if profile.container == cname else replace(profile, container=cname)
    shown = ", ".join(f"{c} ({i})" for c, i in images)
    if not known:
        raise ConfigError(
            f"--zk-profile=auto: no profile knows the image of statefulset {name} "
            f"(container {shown}); known: {', '.join(profile_names())}", hint=PROFILE_HINT)
    raise ConfigError(f"--zk-profile=auto: several containers of statefulset {name} run "
                      f"known ZooKeeper images ({shown})",
                      hint="pass --zk-profile=<name> for the one to drill")
