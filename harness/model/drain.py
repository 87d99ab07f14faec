"""What ``kubectl drain`` decides and what a drain did (pure, no I/O).

``classify`` is kubectl's pod filter chain (``k8s.io/kubectl/pkg/drain``: DaemonSet, mirror,
local storage, unreplicated, in that order; the first verdict that does not delete wins,
otherwise the last warning is kept). ``EvictionAnswer``, ``PodDrain`` and ``DrainResult``
record a drain's refusals (with the PDB's own words), evictions and timings, and
``DrainResult.describe`` renders them the way ``kubectl drain`` prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PDB_REFUSAL = "Cannot evict pod as it would violate the pod's disruption budget."
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"
TERMINAL = ("Succeeded", "Failed")


# -- which pods drain evicts (kubectl's filters, pure) -----------------------------------------


@dataclass(frozen=True)
class DrainOptions:
    ignore_daemonsets: bool = True
    delete_emptydir_data: bool = True
    force: bool = False  # evict pods without a controller (the tutorial passes --force)
    pod_selector: str | None = None
    grace_period: int | None = None  # deleteOptions.gracePeriodSeconds; None = the pod's
    retry_every: float = 5.0  # kubectl waits 5 s between refused evictions


@dataclass(frozen=True)
class Verdict:
    delete: bool
    kind: str  # okay | skip | warning | error
    message: str = ""


def controller_of(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    refs = (pod.get("metadata") or {}).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


def classify(
    pod: Mapping[str, Any],
    options: DrainOptions,
    daemonset_exists: Callable[[str, str], bool] = lambda _ns, _name: True,
) -> Verdict:
    """kubectl's filters in order (DaemonSet, mirror, local storage, unreplicated); the
    first verdict that does not delete wins, else the last warning is kept."""
    meta = pod.get("metadata") or {}
    terminal = (pod.get("status") or {}).get("phase") in TERMINAL
    verdict = Verdict(True, "okay")
    checks = (_daemonset, _mirror, _local_storage, _unreplicated)
    for check in checks:
        seen = check(pod, meta, terminal, options, daemonset_exists)
        if not seen.delete:
            return seen
        if seen.kind == "warning":
            verdict = seen
    return verdict


def _daemonset(pod: Any, meta: Any, terminal: bool, o: DrainOptions, exists: Any) -> Verdict:
    ref = controller_of(pod)
    if ref is None or ref.get("kind") != "DaemonSet" or terminal:
        return Verdict(True, "okay")
    if not exists(meta.get("namespace", ""), ref.get("name", "")):
        if o.force:
            return Verdict(True, "warning", f'daemonsets.apps "{ref.get("name")}" not found')
        return Verdict(False, "error", f'daemonsets.apps "{ref.get("name")}" not found')
    if not o.ignore_daemonsets:
        return Verdict(False, "error", DAEMONSET_FATAL)
    return Verdict(False, "warning", DAEMONSET_WARNING)


def _mirror(pod: Any, meta: Any, terminal: bool, o: DrainOptions, exists: Any) -> Verdict:
    if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return Verdict(False, "skip")
    return Verdict(True, "okay")


def _local_storage(pod: Any, meta: Any, terminal: bool, o: DrainOptions, exists: Any) -> Verdict:
    volumes = (pod.get("spec") or {}).get("volumes") or []
    if terminal or not any("emptyDir" in v for v in volumes):
        return Verdict(True, "okay")
    if not o.delete_emptydir_data:
        return Verdict(False, "error", LOCAL_STORAGE_FATAL)
    return Verdict(True, "warning", LOCAL_STORAGE_WARNING)


def _unreplicated(pod: Any, meta: Any, terminal: bool, o: DrainOptions, exists: Any) -> Verdict:
    if terminal or controller_of(pod) is not None:
        return Verdict(True, "okay")
    if o.force:
        return Verdict(True, "warning", UNMANAGED_WARNING)
    return Verdict(False, "error", UNMANAGED_FATAL)


def grouped(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """``[(message, ns/pod), ...]`` -> ``["message: ns/a, ns/b", ...]`` (kubectl's format)."""
    by_message: dict[str, list[str]] = {}
    for message, pod in pairs:
        by_message.setdefault(message, []).append(pod)
    return [f"{m}: {', '.join(pods)}" for m, pods in by_message.items()]


# -- one eviction ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvictionAnswer:
    """What the API said to one ``POST pods/<name>/eviction``."""

    pod: str  # namespace/name
    code: int  # 201 allowed, 429 refused by a budget, 404 gone, ...
    message: str = ""
    causes: tuple[str, ...] = ()  # e.g. "The disruption budget zk-pdb needs 2 healthy ..."
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def allowed(self) -> bool:
        return self.code == 201

    @property
    def refused(self) -> bool:
        return self.code == 429

    def describe(self) -> str:
        if self.allowed:
            return f"eviction of {self.pod} allowed"
        because = f" ({'; '.join(self.causes)})" if self.causes else ""
        return f"eviction of {self.pod} answered {self.code}: {self.message}{because}"



# -- what a drain did --------------------------------------------------------------------------


@dataclass
class PodDrain:
    """One pod's way through a drain: refusals, the accepted eviction, its disappearance."""

    namespace: str
    name: str
    uid: str
    answers: list[EvictionAnswer] = field(default_factory=list)
    evicted_after: float | None = None  # seconds from the drain's start to the 201
    gone_after: float | None = None  # ... to the pod being gone or replaced
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def evicted(self) -> bool:
        return self.evicted_after is not None

    @property
    def refusals(self) -> list[EvictionAnswer]:
        return [a for a in self.answers if a.refused]


@dataclass(frozen=True)
class DrainResult:
    node: str
    cordoned_by_us: bool  # False: it was already cordoned (by someone, or an earlier drain)
    pods: tuple[PodDrain, ...]
    skipped: tuple[str, ...]  # mirror and DaemonSet pods left alone
    warnings: tuple[str, ...]
    errors: tuple[str, ...]  # filter errors: nothing was evicted
    duration: float

    @property
    def evicted(self) -> list[str]:
        return [p.name for p in self.pods if p.evicted]

    @property
    def refused(self) -> list[str]:
        """Pods never evicted because a budget kept refusing until the deadline."""
        return [p.name for p in self.pods if not p.evicted and p.refusals and p.error is None]

    @property
    def refusal_messages(self) -> dict[str, str]:
        """Last refusal per pod: the PDB message and its cause, as the API worded them."""
        out = {}
        for p in self.pods:
            if p.refusals:
                last = p.refusals[-1]
                out[p.name] = last.message + (f" ({'; '.join(last.causes)})" if last.causes else "")
        return out

    @property
    def ok(self) -> bool:
        return not self.errors and all(p.gone_after is not None for p in self.pods)

    def describe(self) -> str:
        """What ``kubectl drain`` would have printed, plus timings."""
        head = f"node/{self.node} {'cordoned' if self.cordoned_by_us else 'already cordoned'}"
        lines = [head, *(f"Warning: {w}" for w in self.warnings)]
        lines += [f"error: {e}" for e in self.errors]
        for p in self.pods:
            if p.refusals:
                more = f" (refused {len(p.refusals)} times)" if len(p.refusals) > 1 else ""
                lines.append(f'error when evicting pods/"{p.name}" -n "{p.namespace}": '
                             f"{self.refusal_messages[p.name]}{more}")
            if p.gone_after is not None:
                lines.append(f"pod/{p.name} evicted (gone {p.gone_after:.1f}s after the start)")
            elif p.evicted:
                lines.append(f"pod/{p.name} eviction accepted but still present")
            elif p.error:
                lines.append(f"pod/{p.name}: {p.error}")
        lines.append(f"node/{self.node} drained" if self.ok else
                     f'unable to drain node "{self.node}" in {self.duration:.1f}s, pending pods: '
                     + ", ".join(p.name for p in self.pods if p.gone_after is None))
        return "\n".join(lines)
