"""kubectl's pod columns (READY, STATUS, RESTARTS) and the ``PodSnapshot`` timelines record.

Pure, no I/O. Input is a pod as a dict, in the API's JSON shape (camelCase: a watch event's
``raw_object``, ``ApiClient().sanitize_for_serialization(pod)``, a localkube response) or
the Python client's ``V1Pod.to_dict()`` shape (snake_case, datetimes); both are read.

STATUS follows the server-side printer that ``kubectl get pods`` shows (Kubernetes 1.32):
start from ``status.reason`` or the phase; a scheduling gate wins over that; then init
containers (``Init:<reason>``, ``Init:ExitCode:N``, ``Init:Signal:N``, ``Init:i/n``); when
not initializing, regular containers from last to first, each waiting reason, terminated
reason or ``ExitCode:N``/``Signal:N`` overriding (so the first container wins); ``Completed``
with a ready running container becomes ``Running`` (pod Ready) or ``NotReady``; finally a
deletionTimestamp makes it ``Terminating`` (``Unknown`` for a lost node) unless the phase is
terminal. This is what makes the tutorial's ``0/1 Error 0`` → ``0/1 Running 1`` →
``1/1 Running 1`` reproducible in assertions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from harness.model._fields import get, get_int, get_list, parse_time

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class PodColumns:
    """The three kubectl columns, plus what RESTARTS' ``(5m ago)`` suffix is computed from."""

    ready: str
    status: str
    restarts: int
    last_restart: datetime | None


@dataclass(frozen=True)
class ContainerSnapshot:
    """One regular container's status at one moment."""

    name: str
    state: str  # "waiting" | "running" | "terminated" | "unknown"
    reason: str  # waiting or terminated reason, "" if none
    exit_code: int | None  # when terminated
    ready: bool
    started: bool | None
    restart_count: int
    last_exit_code: int | None  # previous instance (lastState.terminated), e.g. 143 after pkill
    last_reason: str


@dataclass(frozen=True)
class PodSnapshot:
    """What a pod looked like at one moment: the row timelines and reports record."""

    name: str
    namespace: str
    uid: str
    resource_version: str
    phase: str
    ready: bool  # the Ready condition is True
    ready_column: str  # "1/1"
    status: str  # kubectl STATUS column
    restarts: int
    node: str | None
    pod_ip: str | None
    deleting: bool  # deletionTimestamp is set
    revision: str | None  # controller-revision-hash label (StatefulSet pods)
    containers: tuple[ContainerSnapshot, ...]

    @classmethod
    def from_pod(cls, pod: Any) -> PodSnapshot:
        cols = pod_columns(pod)
        return cls(
            name=get(pod, "metadata", "name") or "",
            namespace=get(pod, "metadata", "namespace") or "",
            uid=get(pod, "metadata", "uid") or "",
            resource_version=str(get(pod, "metadata", "resourceVersion") or ""),
            phase=get(pod, "status", "phase") or "",
            ready=is_pod_ready(pod),
            ready_column=cols.ready,
            status=cols.status,
            restarts=cols.restarts,
            node=get(pod, "spec", "nodeName") or None,
            pod_ip=get(pod, "status", "podIP") or None,
            deleting=get(pod, "metadata", "deletionTimestamp") is not None,
            revision=(get(pod, "metadata", "labels") or {}).get("controller-revision-hash"),
            containers=tuple(
                _container_snapshot(cs) for cs in get_list(pod, "status", "containerStatuses")
            ),
        )

    def row(self) -> str:
        """``zk-0 1/1 Running 1``: the kubectl line without AGE, for logs and timelines."""
        return f"{self.name} {self.ready_column} {self.status} {self.restarts}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict for the report's timeline."""
        return asdict(self)


def pod_columns(pod: Any) -> PodColumns:
    """READY, STATUS and RESTARTS exactly as ``kubectl get pods`` prints them."""
    spec_containers = get_list(pod, "spec", "containers")
    init_specs = get_list(pod, "spec", "initContainers")
    sidecar_names = {get(c, "name") for c in init_specs if _is_sidecar(c)}
    total = len(spec_containers) + len(sidecar_names)

    phase = get(pod, "status", "phase") or ""
    pod_reason = get(pod, "status", "reason") or ""
    reason = pod_reason or phase
    conditions = get_list(pod, "status", "conditions")
    for cond in conditions:
        if get(cond, "type") == "PodScheduled" and get(cond, "reason") == "SchedulingGated":
            reason = "SchedulingGated"

    ready = 0
    restarts = 0
    last_restart: datetime | None = None
    sidecar_restarts = 0
    sidecar_last: datetime | None = None
    initializing = False
    for index, cs in enumerate(get_list(pod, "status", "initContainerStatuses")):
        count = get_int(cs, "restartCount")
        finished = parse_time(get(cs, "lastState", "terminated", "finishedAt"))
        restarts += count
        last_restart = _later(last_restart, finished)
        sidecar = get(cs, "name") in sidecar_names
        if sidecar:
            sidecar_restarts += count
            sidecar_last = _later(sidecar_last, finished)
        terminated = get(cs, "state", "terminated")
        waiting_reason = get(cs, "state", "waiting", "reason") or ""
        if terminated is not None and get_int(terminated, "exitCode") == 0:
            continue
        if sidecar and get(cs, "started"):
            ready += 1 if get(cs, "ready") else 0
            continue
        if terminated is not None:
            reason = "Init:" + _terminated_text(terminated)
        elif waiting_reason and waiting_reason != "PodInitializing":
            reason = "Init:" + waiting_reason
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts, last_restart = sidecar_restarts, sidecar_last
        has_running = False
        for cs in reversed(get_list(pod, "status", "containerStatuses")):
            restarts += get_int(cs, "restartCount")
            last_restart = _later(
                last_restart, parse_time(get(cs, "lastState", "terminated", "finishedAt"))
            )
            waiting_reason = get(cs, "state", "waiting", "reason") or ""
            terminated = get(cs, "state", "terminated")
            if waiting_reason:
                reason = waiting_reason
            elif terminated is not None:
                reason = _terminated_text(terminated)
            elif get(cs, "ready") and get(cs, "state", "running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if get(pod, "metadata", "deletionTimestamp") is not None:
        if pod_reason == "NodeLost":
            reason = "Unknown"
        elif phase not in TERMINAL_PHASES:
            reason = "Terminating"

    return PodColumns(f"{ready}/{total}", reason, restarts, last_restart)


def ready_column(pod: Any) -> str:
    return pod_columns(pod).ready


def status_column(pod: Any) -> str:
    return pod_columns(pod).status


def restart_count(pod: Any) -> int:
    """RESTARTS as a number (sum of restartCount, as the printer counts it)."""
    return pod_columns(pod).restarts


def restarts_column(pod: Any, now: datetime) -> str:
    """RESTARTS as printed: ``1`` or ``1 (5m3s ago)`` when the last exit time is known."""
    cols = pod_columns(pod)
    if cols.restarts and cols.last_restart is not None:
        return f"{cols.restarts} ({human_duration(now - cols.last_restart)} ago)"
    return str(cols.restarts)


def is_pod_ready(pod: Any) -> bool:
    """The pod's Ready condition is True (what the endpoints and the PDB count)."""
    return _condition_true(get_list(pod, "status", "conditions"), "Ready")


def human_duration(delta: timedelta) -> str:
    """kubectl's AGE format: ``45s``, ``5m3s``, ``2h10m``, ``3d4h``, ``2y10d``."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        rest = days % 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


def _container_snapshot(cs: Any) -> ContainerSnapshot:
    state = get(cs, "state") or {}
    kind = next(
        (k for k in ("waiting", "running", "terminated") if get(state, k) is not None),
        "unknown",
    )
    detail = get(state, kind) or {}
    last = get(cs, "lastState", "terminated")
    return ContainerSnapshot(
        name=get(cs, "name") or "",
        state=kind,
        reason=get(detail, "reason") or "",
        exit_code=get(detail, "exitCode") if kind == "terminated" else None,
        ready=bool(get(cs, "ready")),
        started=get(cs, "started"),
        restart_count=get_int(cs, "restartCount"),
        last_exit_code=get(last, "exitCode") if last is not None else None,
        last_reason=(get(last, "reason") or "") if last is not None else "",
    )


def _terminated_text(terminated: Any) -> str:
    reason = get(terminated, "reason") or ""
    if reason:
        return reason
    signal = get_int(terminated, "signal")
    return f"Signal:{signal}" if signal else f"ExitCode:{get_int(terminated, 'exitCode')}"


def _is_sidecar(container: Any) -> bool:
    """An init container with ``restartPolicy: Always`` runs beside the main containers."""
    return get(container, "restartPolicy") == "Always"


def _condition_true(conditions: list[Any], kind: str) -> bool:
    return any(get(c, "type") == kind and get(c, "status") == "True" for c in conditions)


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current
