"""The pod timeline a watch records, and what drills and reports read from it (pure, no I/O).

A ``PodEvent`` is one watch event as ``kubectl get pods -w`` would print it, stamped with the
harness's receipt time and a sequence number; the order of sequence numbers is the API
server's order (one watch stream). ``creation_order`` checks the tutorial's claim that an
OrderedReady StatefulSet creates zk-N only after zk-(N-1) is Running and Ready, from the
events themselves. ``lanes`` cuts the events into per-pod state segments for the HTML
picture.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from harness.model.pod_status import ContainerSnapshot, PodSnapshot

LISTED = "LISTED"  # present in the initial list: existed before the watch began
RELISTED = "RELISTED"  # a change a periodic re-list found (a missed or expired watch event)
GONE = "GONE"  # a deletion a re-list found
_SNAPSHOT_FIELDS = {f.name for f in fields(PodSnapshot)}


@dataclass(frozen=True)
class PodEvent:
    seq: int
    at: datetime  # UTC wall clock when the harness received it
    mono: float  # time.monotonic() at receipt, for latency measurements
    type: str  # ADDED | MODIFIED | DELETED | LISTED | RELISTED | GONE
    pod: PodSnapshot

    @property
    def gone(self) -> bool:
        return self.type in ("DELETED", GONE)

    @property
    def running_ready(self) -> bool:
        return self.pod.ready and self.pod.status == "Running" and not self.gone

    def row(self) -> str:
        """``20:39:35.120 MODIFIED zk-0 1/1 Running 0`` (kubectl -w with a clock)."""
        return f"{self.at:%H:%M:%S.%f}"[:-3] + f" {self.type:<8} {self.pod.row()}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PodEvent:
        """The inverse of ``as_dict`` (reports are re-drawn from their JSON)."""
        pod = {k: v for k, v in data["pod"].items() if k in _SNAPSHOT_FIELDS}
        pod["containers"] = tuple(ContainerSnapshot(**c) for c in pod.get("containers") or ())
        return cls(
            int(data["seq"]),
            datetime.fromisoformat(data["at"]),
            float(data.get("mono", 0.0)),
            str(data["type"]),
            PodSnapshot(**pod),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "type": self.type,
            "row": self.pod.row(),
            "pod": self.pod.as_dict(),
        }


@dataclass(frozen=True)
class CreationOrder:
    """Whether pods were created one by one, each after its predecessor was Running+Ready."""

    observed: bool  # every pod's creation is in the events (not there before the watch)
    problems: tuple[str, ...]
    evidence: tuple[str, ...]  # "zk-0 created #3, Ready #9" lines for the report

    @property
    def ok(self) -> bool:
        return self.observed and not self.problems


def creation_order(events: Sequence[PodEvent], names: Sequence[str]) -> CreationOrder:
    """Check OrderedReady creation of ``names`` (in ordinal order) from the watch events.

    Looks at each pod's latest incarnation (uid): its ADDED event and its first event
    Running and Ready. zk-N must be added after zk-(N-1)'s first Running+Ready event.
    """
    created: dict[str, PodEvent | None] = {}
    ready: dict[str, PodEvent | None] = {}
    evidence: list[str] = []
    for name in names:
        mine = [e for e in events if e.pod.name == name]
        if not mine:
            created[name] = ready[name] = None
            evidence.append(f"{name}: never seen")
            continue
        uid = mine[-1].pod.uid
        incarnation = [e for e in mine if e.pod.uid == uid]
        created[name] = next((e for e in incarnation if e.type == "ADDED"), None)
        ready[name] = next((e for e in incarnation if e.running_ready), None)
        evidence.append(
            f"{name} (uid {uid[:8]}): created {_when(created[name])}, "
            f"Running and Ready {_when(ready[name])}"
        )
    observed = all(created[n] is not None for n in names)
    problems: list[str] = []
    for before, after in itertools.pairwise(names):
        made, prev_ready = created[after], ready[before]
        if made is None:
            continue
        if prev_ready is None:
            problems.append(f"{after} was created while {before} had not been Running and Ready")
        elif made.seq < prev_ready.seq:
            problems.append(
                f"{after} was created at {_when(made)}, before {before} was Running and "
                f"Ready at {_when(prev_ready)}"
            )
    return CreationOrder(observed, tuple(problems), tuple(evidence))


@dataclass(frozen=True)
class Segment:
    """One pod in one state from ``start`` to ``end`` (seconds from the window start)."""

    start: float
    end: float
    status: str
    ready: str  # "1/1"
    restarts: int

    @property
    def label(self) -> str:
        return f"{self.ready} {self.status} {self.restarts}"


def lanes(events: Iterable[PodEvent], start: datetime, end: datetime) -> dict[str, list[Segment]]:
    """Per pod (in name order), the states it was in during ``[start, end]``."""
    span = max((end - start).total_seconds(), 0.0)
    current: dict[str, tuple[float, PodSnapshot] | None] = {}
    out: dict[str, list[Segment]] = {}

    def close(name: str, at: float) -> None:
        state = current.get(name)
        if state is not None and at > state[0]:
            snap = state[1]
            out.setdefault(name, []).append(
                Segment(state[0], at, snap.status, snap.ready_column, snap.restarts)
            )

    for event in sorted(events, key=lambda e: e.seq):
        offset = min(max((event.at - start).total_seconds(), 0.0), span)
        if (event.at - end).total_seconds() > 0:
            break
        name = event.pod.name
        out.setdefault(name, [])
        close(name, offset)
        current[name] = None if event.gone else (offset, event.pod)
    for name in list(current):
        close(name, span)
    return {name: out[name] for name in sorted(out, key=_natural)}


def rows(events: Iterable[PodEvent]) -> list[str]:
    return [e.row() for e in events]


def _when(event: PodEvent | None) -> str:
    if event is None:
        return "never"
    return f"#{event.seq} ({event.at:%H:%M:%S.%f}"[:-3] + ")"


def _natural(name: str) -> tuple[str, int]:
    head, _, tail = name.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (name, -1)
