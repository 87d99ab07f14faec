"""The Pod printer: ``printPod`` READY/STATUS/RESTARTS cells and row conditions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from localkube.apimachinery.meta import (
    human_duration,
)
from localkube.apiserver.tables.cells import (
    _age,
    _age_col,
    _col,
    _meta,
    _name_col,
    _spec,
    _status,
    _time,
)

_POD_COLUMNS = [
    _name_col(),
    _col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", desc="The aggregate status of the containers in this pod."),
    _col(
        "Restarts",
        desc="The number of times the containers in this pod have been restarted and when the"
        " last container in this pod has restarted.",
    ),
    _age_col(),
    _col("IP", priority=1, desc="podIP address allocated to the pod."),
    _col("Node", priority=1, desc="NodeName indicates in which node this pod is scheduled."),
    _col(
        "Nominated Node",
        priority=1,
        desc="nominatedNodeName is set when this pod preempts other pods on the node.",
    ),
    _col("Readiness Gates", priority=1, desc="Readiness gates evaluated for pod readiness."),
]


def _later(current: datetime | None, candidate: Any) -> datetime | None:
    t = _time(candidate)
    if t is None:
        return current
    return t if current is None or current < t else current


def _condition_true(status: Mapping[str, Any], ctype: str) -> bool:
    for cond in status.get("conditions") or []:
        if cond.get("type") == ctype:
            return cond.get("status") == "True"
    return False


def pod_status_cells(pod: Mapping[str, Any], now: datetime) -> tuple[str, str, str]:
    """``(READY, STATUS, RESTARTS)`` exactly as ``printPod`` computes them."""
    spec, status = _spec(pod), _status(pod)
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}

    def restartable(name: Any) -> bool:
        return (init_specs.get(name) or {}).get("restartPolicy") == "Always"

    total = len(spec.get("containers") or []) + sum(1 for n in init_specs if restartable(n))
    ready = 0
    restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    n_init = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        count = int(cs.get("restartCount") or 0)
        finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        restarts += count
        last_restart = _later(last_restart, finished)
        if restartable(cs.get("name")):
            sidecar_restarts += count
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if restartable(cs.get("name")) and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode') or 0}"
        elif (
            waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing"
        ):
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
            last_restart = _later(last_restart, finished)
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{terminated.get('exitCode') or 0}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"

    if _meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    return f"{ready}/{total}", reason, restarts_text


def _pod_row(pod: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(pod), _status(pod)
    ready, reason, restarts = pod_status_cells(pod, now)
    ips = status.get("podIPs") or []
    pod_ip = (ips[0].get("ip") if ips else "") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        conditions = status.get("conditions") or []
        true = 0
        for gate in gates:
            for cond in conditions:
                if cond.get("type") == gate.get("conditionType"):
                    true += cond.get("status") == "True"
                    break
        gates_text = f"{true}/{len(gates)}"
    return [
        _meta(pod).get("name", ""),
        ready,
        reason,
        restarts,
        _age(pod, now),
        pod_ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


def _pod_conditions(pod: Mapping[str, Any]) -> list[dict] | None:
    phase = _status(pod).get("phase")
    if phase == "Succeeded":
        msg = "The pod has completed successfully."
    elif phase == "Failed":
        msg = "The pod failed."
    else:
        return None
    return [{"type": "Completed", "status": "True", "reason": phase, "message": msg}]
