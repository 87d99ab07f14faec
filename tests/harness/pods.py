"""Builders of realistic pod dicts (API JSON shape, camelCase) for the pure tests."""

from __future__ import annotations

from typing import Any

CONTAINER = "kubernetes-zookeeper"
IMAGE = "k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10"
STARTED = "2024-05-01T10:00:00Z"
FINISHED = "2024-05-01T10:29:00Z"


def running(started_at: str = STARTED) -> dict[str, Any]:
    return {"running": {"startedAt": started_at}}


def waiting(reason: str, message: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"reason": reason}
    if message is not None:
        body["message"] = message
    return {"waiting": body}


def terminated(
    exit_code: int,
    reason: str | None = None,
    *,
    signal: int | None = None,
    finished_at: str = FINISHED,
) -> dict[str, Any]:
    body: dict[str, Any] = {"exitCode": exit_code, "startedAt": STARTED, "finishedAt": finished_at}
    if reason is not None:
        body["reason"] = reason
    if signal is not None:
        body["signal"] = signal
    return {"terminated": body}


def status(
    state: dict[str, Any],
    *,
    name: str = CONTAINER,
    ready: bool = False,
    restarts: int = 0,
    last: dict[str, Any] | None = None,
    started: bool | None = None,
) -> dict[str, Any]:
    cs: dict[str, Any] = {
        "name": name,
        "image": IMAGE,
        "imageID": "",
        "ready": ready,
        "restartCount": restarts,
        "state": state,
        "lastState": last or {},
    }
    if started is not None:
        cs["started"] = started
    return cs


def condition(kind: str, value: bool, reason: str | None = None) -> dict[str, Any]:
    cond: dict[str, Any] = {"type": kind, "status": "True" if value else "False"}
    if reason is not None:
        cond["reason"] = reason
    return cond


def pod(
    name: str = "zk-0",
    *,
    phase: str = "Running",
    statuses: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    ready: bool | None = None,
    conditions: list[dict[str, Any]] | None = None,
    containers: list[str] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
    node: str | None = "node-1",
    deleting: bool = False,
    reason: str | None = None,
    pod_ip: str | None = "127.1.0.2",
) -> dict[str, Any]:
    """A StatefulSet pod as the API returns it; ``ready`` adds the Ready condition."""
    conds = list(conditions or [])
    if ready is not None:
        conds.append(condition("Ready", ready))
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "uid": f"uid-{name}",
        "resourceVersion": "1234",
        "labels": {"app": "zk", "controller-revision-hash": "zk-5db4499664"},
    }
    if deleting:
        metadata["deletionTimestamp"] = "2024-05-01T11:00:00Z"
        metadata["deletionGracePeriodSeconds"] = 30
    spec: dict[str, Any] = {
        "containers": [{"name": n, "image": IMAGE} for n in (containers or [CONTAINER])],
    }
    if init_containers:
        spec["initContainers"] = init_containers
    if node:
        spec["nodeName"] = node
    st: dict[str, Any] = {"phase": phase, "conditions": conds}
    if statuses is not None:
        st["containerStatuses"] = statuses
    if init_statuses is not None:
        st["initContainerStatuses"] = init_statuses
    if reason is not None:
        st["reason"] = reason
    if pod_ip and phase == "Running":
        st["podIP"] = pod_ip
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": st}
