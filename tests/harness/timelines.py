"""Builders of pod timelines (``PodEvent`` sequences) for the timeline and report tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.model.pod_status import PodSnapshot
from harness.timeline import PodEvent
from tests.harness import pods

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def snapshot(name: str, state: str, *, uid: str | None = None, restarts: int = 0) -> PodSnapshot:
    """``state``: pending | creating | running (not ready) | ready | terminating | error."""
    if state == "pending":
        raw = pods.pod(name, phase="Pending", ready=False, node=None)
    elif state == "creating":
        raw = pods.pod(
            name,
            phase="Pending",
            ready=False,
            statuses=[pods.status(pods.waiting("ContainerCreating"))],
        )
    elif state in ("running", "ready", "terminating"):
        ready = state != "running"
        raw = pods.pod(
            name,
            ready=ready,
            deleting=state == "terminating",
            statuses=[pods.status(pods.running(), ready=ready, restarts=restarts)],
        )
    elif state == "error":
        raw = pods.pod(
            name,
            ready=False,
            statuses=[pods.status(pods.terminated(1, "Error"), restarts=restarts)],
        )
    else:
        raise ValueError(state)
    if uid is not None:
        raw["metadata"]["uid"] = uid
    return PodSnapshot.from_pod(raw)


class Script:
    """Append events at given seconds after ``T0``; sequence numbers count up."""

    def __init__(self) -> None:
        self.events: list[PodEvent] = []

    def add(self, at: float, kind: str, name: str, state: str, *, uid: str | None = None) -> Script:
        seq = len(self.events) + 1
        when = T0 + timedelta(seconds=at)
        self.events.append(PodEvent(seq, when, at, kind, snapshot(name, state, uid=uid)))
        return self


def ordered_creation(names: list[str], period: float = 10.0) -> list[PodEvent]:
    """The tutorial's ``kubectl get pods -w``: each pod Pending -> Running -> Ready in turn."""
    script = Script()
    for i, name in enumerate(names):
        t = i * period
        script.add(t, "ADDED", name, "pending")
        script.add(t + 0.1, "MODIFIED", name, "creating")
        script.add(t + 0.5, "MODIFIED", name, "running")
        script.add(t + period - 0.1, "MODIFIED", name, "ready")
    return script.events
