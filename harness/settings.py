"""One frozen ``Settings`` for a run, from command line > ini > environment > defaults.

Pure: the pytest plugin collects raw values (``config.getoption`` / ``config.getini`` /
``os.environ``) into three mappings keyed by ``Option.key`` and calls
``Settings.from_sources``; this module parses, validates and records where each value came
from. ``OPTIONS`` is the single table of options, so the plugin can generate its option
group, ini twins and help text from it. Bad input raises ``ConfigError`` with a one-line
message naming the source and a fix hint.

Safety: ``allow_destructive`` and ``confirm_context`` are read from the command line only, so
a stray environment variable or ini line can never arm destructive drills on a real cluster.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.errors import ConfigError, SafetyRefusal

ENV_PREFIX = "ZKDRILL_"
INI_PREFIX = "zkdrill_"
CLUSTERS = ("local", "kube")
DEFAULT_MANIFEST = Path(__file__).resolve().parent / "manifests" / "zookeeper.yaml"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Timeouts:
    """Seconds. Defaults leave room for image pulls and 30 s grace periods on real clusters."""

    rollout: float = 900.0  # a whole rolling update / ordered creation of 3 pods
    pod_ready: float = 300.0  # one pod from created to Ready
    step: float = 600.0  # any other single drill step
    eviction_refused_window: float = 30.0  # how long a refused eviction must stay refused
    zk: float = 10.0  # one four-letter word or kazoo connect


@dataclass(frozen=True)
class Settings:
    cluster: str = "local"
    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str = "default"
    manifest: Path = DEFAULT_MANIFEST
    image: str | None = None
    statefulset: str = "zk"  # or the manifest's only StatefulSet, when not given
    use_existing: bool = False
    keep: bool = False
    report_dir: Path = Path("reports")
    timeouts: Timeouts = field(default_factory=Timeouts)
    localkube_nodes: int = 4
    allow_destructive: bool = False
    confirm_context: str | None = None
    zk_profile: str = "auto"  # or a shipped profile's name, or PATH.yaml
    cluster_domain: str = "cluster.local"
    # the longest a step may leave every client without an acknowledged write (seconds)
    # one election: None = initLimit x tickTime of the target (how long a new leader waits for
    # its followers) + 5 s for the clients to find it; 25 s when the target does not say
    budget_leader_loss: float | None = None
    budget_follower_loss: float = 3.0  # no election: the other servers keep the quorum
    target: str | None = None  # --target: "leader", "follower" or a pod name; None: zk-0
    upgrade_image: str | None = None  # the upgrade drill's target image
    node_stop_command: str | None = None  # "{node}" is replaced; localkube's by default
    node_start_command: str | None = None
    # key -> "command line" | "ini" | "environment" | "default", for the report header
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_sources(
        cls,
        cli: Mapping[str, Any] | None = None,
        ini: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        """Resolve every option: the first source with a value wins (None or "" = unset).

        ``cli`` and ``ini`` are keyed by ``Option.key``; ``env`` is the whole environment
        (only ``ZKDRILL_*`` is read; an unknown ``ZKDRILL_*`` name is an error, not ignored).
        Command-line flags must default to None, not False, or they would hide ini and env.
        """
        cli, ini = dict(cli or {}), dict(ini or {})
        for source, given in (("cli", cli), ("ini", ini)):
            unknown = set(given) - set(_BY_KEY)
            if unknown:
                raise ValueError(f"unknown {source} option keys: {sorted(unknown)}")
        env_values = _env_values(env or {})
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for opt in OPTIONS:
            for origin, label, raw in (
                ("command line", opt.flag, cli.get(opt.key)),
                ("ini", opt.ini, ini.get(opt.key) if opt.ini else None),
                ("environment", opt.env, env_values.get(opt.key)),
            ):
                if raw is None or raw == "" or label is None:
                    continue
                where = f"ini option {label}" if origin == "ini" else label
                values[opt.key] = opt.parse(raw, where)
                origins[opt.key] = origin
                break
            else:
                origins[opt.key] = "default"
        timeouts = Timeouts(
            **{k.removeprefix("timeout_"): v for k, v in values.items() if k.startswith("timeout_")}
        )
        plain = {k: v for k, v in values.items() if not k.startswith("timeout_")}
        settings = cls(**plain, timeouts=timeouts, origins=MappingProxyType(origins))
        settings._validate()
        return settings

    def _validate(self) -> None:
        if self.cluster != "local":
            return
        for key in ("kubeconfig", "context"):
            value = getattr(self, key)
            if value is None:
                continue
            opt = _BY_KEY[key]
            source = opt.flag if self.origins[key] == "command line" else f"{opt.env}/{opt.ini}"
            raise ConfigError(
                f"{opt.flag} (from {self.origins[key]}) is only used with --cluster=kube; "
                "the default, local, starts localkube with its own kubeconfig",
                hint=f"add --cluster=kube to drill the cluster behind it, or drop {source}",
            )

    def check_destructive(self, active_context: str) -> None:
        """Raise ``SafetyRefusal`` unless destructive drills may run on this cluster.

        localkube is always fair game. A real cluster needs ``--allow-destructive`` and
        ``--confirm-context`` naming the kubeconfig context actually in use.
        """
        if self.cluster == "local":
            return
        hint = f"add --allow-destructive --confirm-context={active_context}, or use --cluster=local"
        if not self.allow_destructive:
            raise SafetyRefusal(
                f"destructive drill refused on real cluster context {active_context!r}",
                hint=hint,
            )
        if self.confirm_context != active_context:
            raise SafetyRefusal(
                f"--confirm-context={self.confirm_context!r} does not match the active "
                f"context {active_context!r}",
                hint=hint,
            )

    def describe(self) -> list[str]:
        """Lines for the pytest report header: what this run will touch, and how."""
        if self.cluster == "local":
            where = f"local (localkube, {self.localkube_nodes} nodes)"
            destructive = "allowed (localkube)"
        else:
            where = (
                f"kube (context {self.context or '<current>'}, "
                f"kubeconfig {self.kubeconfig or '<default>'})"
            )
            destructive = (
                f"allowed on context {self.confirm_context} only"
                if self.allow_destructive and self.confirm_context
                else "refused (needs --allow-destructive --confirm-context=<context>)"
            )
        source = "existing" if self.use_existing else f"deployed from {self.manifest}"
        sts = self.statefulset if self.origins.get("statefulset", "default") != "default" \
            else f"{self.statefulset} (or the manifest's only StatefulSet)"
        image = self.image or "as in the manifest"
        t = self.timeouts
        lines = [
            f"zkdrill cluster: {where}",
            f"zkdrill target: statefulset {self.namespace}/{sts} ({source}), "
            f"image {image}, profile {self.zk_profile}, domain {self.cluster_domain}",
            f"zkdrill timeouts: rollout {t.rollout:g}s, pod_ready {t.pod_ready:g}s, "
            f"step {t.step:g}s, eviction_refused_window {t.eviction_refused_window:g}s, "
            f"zk {t.zk:g}s",
            "zkdrill budgets: write unavailability <= "
            + (f"{self.budget_leader_loss:g}s" if self.budget_leader_loss is not None
               else "initLimit x tickTime + 5s")
            + f" when the leader is disturbed, <= {self.budget_follower_loss:g}s otherwise; "
            f"target {self.target or 'the first pod'}",
            f"zkdrill destructive drills: {destructive}",
            f"zkdrill reports: {self.report_dir} (keep ensemble: {'yes' if self.keep else 'no'})",
        ]
        overrides = [f"{k} ({o})" for k, o in self.origins.items() if o != "default"]
        if overrides:
            lines.append("zkdrill set by user: " + ", ".join(overrides))
        return lines


# --- parsers: (raw value, where it came from) -> typed value, or ConfigError -----------------


def _text(raw: Any, where: str) -> str:
    return str(raw).strip()


def _optional_text(raw: Any, where: str) -> str | None:
    return str(raw).strip() or None


def _path(raw: Any, where: str) -> Path:
    return Path(str(raw).strip()).expanduser()


def _cluster(raw: Any, where: str) -> str:
    value = str(raw).strip().lower()
    if value not in CLUSTERS:
        raise ConfigError(
            f"invalid {where}: {raw!r}; allowed values: {', '.join(CLUSTERS)}",
            hint="--cluster=local runs localkube, --cluster=kube uses your kubeconfig",
        )
    return value


def _dns_label(raw: Any, where: str) -> str:
    value = str(raw).strip()
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ConfigError(
            f"invalid {where}: {raw!r} is not a Kubernetes name",
            hint="use lowercase letters, digits and '-', at most 63 characters",
        )
    return value


def _bool(raw: Any, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"invalid {where}: {raw!r} is not a yes/no value", hint="use true or false")


def _positive_int(raw: Any, where: str) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"invalid {where}: {raw!r}", hint="use a whole number >= 1")
    return value


def _target(raw: Any, where: str) -> str:
    """``leader``, ``follower`` or a pod name (checked against the ensemble once known)."""
    text = str(raw).strip()
    if text in ("leader", "follower") or _DNS_LABEL.match(text):
        return text
    raise ConfigError(f"invalid {where}: {raw!r}",
                      hint="use leader, follower or the name of one of the ensemble's pods")


def _seconds(raw: Any, where: str) -> float:
    """``30``, ``30s``, ``2.5m``, ``1h`` -> seconds (> 0)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    else:
        match = _DURATION.match(str(raw))
        if match is None:
            raise ConfigError(
                f"invalid {where}: {raw!r} is not a duration", hint="use e.g. 300, 90s, 10m or 1h"
            )
        value = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    if value <= 0:
        raise ConfigError(f"invalid {where}: {raw!r}", hint="a timeout must be more than 0s")
    return value


@dataclass(frozen=True)
class Option:
    """One setting: its ``Settings`` key, command-line flag, ini and env twins, and parser."""

    key: str
    flag: str
    help: str
    parse: Callable[[Any, str], Any]
    kind: str = "value"  # "value" | "flag" (store_true on the command line)
    cli_only: bool = False

    @property
    def ini(self) -> str | None:
        return None if self.cli_only else INI_PREFIX + self.key

    @property
    def env(self) -> str | None:
        return None if self.cli_only else ENV_PREFIX + self.key.upper()

    @property
    def default(self) -> Any:
        if self.key.startswith("timeout_"):
            return getattr(Timeouts(), self.key.removeprefix("timeout_"))
        return _DEFAULTS[self.key]


def _timeout_option(name: str, what: str) -> Option:
    return Option(f"timeout_{name}", f"--timeout-{name.replace('_', '-')}", what, _seconds)


OPTIONS: tuple[Option, ...] = (
    Option("cluster", "--cluster", "local (start localkube) or kube (kubeconfig)", _cluster),
    Option("kubeconfig", "--kubeconfig", "kubeconfig file for --cluster=kube", _path),
    Option("context", "--context", "kubeconfig context for --cluster=kube", _optional_text),
    Option("namespace", "--namespace", "namespace of the ensemble", _dns_label),
    Option("manifest", "--manifest", "manifest to deploy (default: the tutorial's)", _path),
    Option("image", "--image", "override the ZooKeeper container image", _optional_text),
    Option("statefulset", "--statefulset",
           "name of the ZooKeeper StatefulSet (default: the manifest's only one, else zk)",
           _dns_label),
    Option(
        "use_existing",
        "--use-existing",
        "drill an existing ensemble, deploy nothing",
        _bool,
        "flag",
    ),
    Option(
        "keep", "--keep", "leave the ensemble (and localkube) running afterwards", _bool, "flag"
    ),
    Option("report_dir", "--report-dir", "where JUnit/JSON/HTML reports go", _path),
    _timeout_option("rollout", "seconds for a rolling update or ordered creation"),
    _timeout_option("pod_ready", "seconds for one pod to become Ready"),
    _timeout_option("step", "seconds for any other drill step"),
    _timeout_option("eviction_refused_window", "seconds a refused eviction must stay refused"),
    _timeout_option("zk", "seconds for one ZooKeeper request or connection"),
    Option("localkube_nodes", "--localkube-nodes", "nodes localkube simulates", _positive_int),
    Option(
        "allow_destructive",
        "--allow-destructive",
        "allow destructive drills on a real cluster (command line only)",
        _bool,
        "flag",
        cli_only=True,
    ),
    Option(
        "confirm_context",
        "--confirm-context",
        "name of the real cluster's context, to confirm --allow-destructive",
        _optional_text,
        cli_only=True,
    ),
    Option("zk_profile", "--zk-profile",
           "image profile: auto (from the StatefulSet's image), a shipped profile's name "
           "(kubernetes-zookeeper, bitnami-zookeeper, zookeeper, pravega-zookeeper) or "
           "PATH.yaml (a profile file)", _text),
    Option("cluster_domain", "--cluster-domain", "cluster DNS domain of pod FQDNs", _text),
    Option("budget_leader_loss", "--budget-leader-loss",
           "longest write unavailability allowed in a step that disturbs the leader", _seconds),
    Option("budget_follower_loss", "--budget-follower-loss",
           "longest write unavailability allowed in a step that disturbs only followers",
           _seconds),
    Option("target", "--target",
           "the server process/liveness/readiness/drain disturb: leader, follower or a pod "
           "name (default: the tutorial's zk-0)", _target),
    Option("upgrade_image", "--upgrade-image",
           "image the upgrade drill rolls out behind a canary partition (required on a real "
           "cluster; on localkube another tag of the same image)", _optional_text),
    Option("node_stop_command", "--node-stop-command",
           "command that stops a node, {node} replaced by its name (node-failure drill; "
           "localkube's own by default)", _optional_text),
    Option("node_start_command", "--node-start-command",
           "command that starts the node again, {node} replaced", _optional_text),
)

_BY_KEY = {opt.key: opt for opt in OPTIONS}
_DEFAULTS = {f.name: getattr(Settings(), f.name) for f in fields(Settings)}
_CLI_ONLY_ENV = {ENV_PREFIX + opt.key.upper(): opt for opt in OPTIONS if opt.cli_only}


def _env_values(env: Mapping[str, str]) -> dict[str, str]:
    known = {opt.env: opt.key for opt in OPTIONS if opt.env}
    values: dict[str, str] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        if name in _CLI_ONLY_ENV:
            raise ConfigError(
                f"{name} is not read from the environment",
                hint=f"pass {_CLI_ONLY_ENV[name].flag} on the command line instead",
            )
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            raise ConfigError(
                f"unknown environment variable {name}",
                hint=f"did you mean {close[0]}?" if close else f"unset {name}",
            )
        values[known[name]] = raw
    return values
