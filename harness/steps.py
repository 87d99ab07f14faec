"""``with step("delete the StatefulSet"):`` — what a drill did, when, and what it saw.

A ``DrillRecorder`` belongs to one drill (one pytest test). Each step records its name,
start and end, outcome (passed/failed/skipped, with the error's first line), the pods as
``kubectl get pods`` would show them when it ended, the ZooKeeper checks and commands run
during it, and the range of pod-timeline events it covers. Every finished step is also
attached to the test's JUnit record as properties (``step.01`` ...), so CI systems that only
read JUnit XML still show the steps. The recorder is pure bookkeeping: it reads pods from
whatever ``current()`` source it is given and never calls the API itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

from harness.model.pod_status import PodSnapshot
from harness.timeline import PodEvent


class PodView(Protocol):
    def current(self) -> dict[str, PodSnapshot]: ...

    def events(self, since: int = 0) -> list[PodEvent]: ...

    @property
    def last_seq(self) -> int: ...


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Check:
    """One ZooKeeper (or other) check made during a step: what, whether it held, and why."""

    name: str
    ok: bool
    detail: str
    at: datetime = field(default_factory=now)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "at": self.at.isoformat()}


@dataclass
class StepRecord:
    index: int
    name: str
    started: datetime
    ended: datetime | None = None
    outcome: str = "running"  # passed | failed | skipped
    message: str = ""
    pods: list[PodSnapshot] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    progress: list[str] = field(default_factory=list)  # wait details as they changed
    first_seq: int = 0  # pod-timeline events with first_seq < seq <= last_seq
    last_seq: int = 0
    disturbs: list[str] = field(default_factory=list)  # pods the step declared it may change

    @property
    def duration(self) -> float:
        end = self.ended or now()
        return (end - self.started).total_seconds()

    def summary(self) -> str:
        text = f"{self.name}: {self.outcome} in {self.duration:.2f}s"
        return f"{text} ({self.message})" if self.message else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat() if self.ended else None,
            "duration": round(self.duration, 3),
            "outcome": self.outcome,
            "message": self.message,
            "pods": [p.as_dict() | {"row": p.row()} for p in self.pods],
            "zookeeper_checks": [c.as_dict() for c in self.checks],
            "commands": list(self.commands),
            "progress": list(self.progress),
            "events": [self.first_seq, self.last_seq],
            "disturbs": list(self.disturbs),
        }


@dataclass
class DrillRecord:
    nodeid: str
    name: str
    markers: list[str]
    started: datetime = field(default_factory=now)
    ended: datetime | None = None
    outcome: str = "running"  # passed | failed | error | skipped
    message: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    events: list[PodEvent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # what the drill's workload saw: acknowledged/failed/indeterminate/lost, longest write gap
    workload: dict[str, Any] = field(default_factory=dict)
    # figures the drill measured itself (seconds to a new leader, to the liveness restart...)
    measures: dict[str, float] = field(default_factory=dict)
    # the report's extra lanes: "writes" [[offset s, outcome]], "roles" [[offset s, pod, mode]]
    lanes: dict[str, list[Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        end = self.ended or now()
        return {
            "nodeid": self.nodeid,
            "name": self.name,
            "markers": self.markers,
            "started": self.started.isoformat(),
            "ended": end.isoformat(),
            "duration": round((end - self.started).total_seconds(), 3),
            "outcome": self.outcome,
            "message": self.message,
            "notes": self.notes,
            "workload": dict(self.workload),
            "measures": dict(self.measures),
            "lanes": dict(self.lanes),
            "steps": [s.as_dict() for s in self.steps],
            "timeline": [e.as_dict() for e in self.events],
        }


class DrillRecorder:
    """Records one drill's steps; ``recorder("name")`` is the ``with step(...)`` block."""

    def __init__(
        self,
        record: DrillRecord,
        *,
        add_property: Callable[[str, object], None] | None = None,
    ) -> None:
        self.record = record
        self.pods: PodView | None = None
        self.current: StepRecord | None = None
        self._add_property = add_property
        # called with ("start" | "end", step) as steps begin and finish (the live transcript)
        self.observers: list[Callable[[str, StepRecord], None]] = []

    def __call__(self, name: str, *, disturbs: Sequence[str] = ()) -> Any:
        return self.step(name, disturbs=disturbs)

    @contextmanager
    def step(self, name: str, *, disturbs: Sequence[str] = ()) -> Iterator[StepRecord]:
        if self.current is not None:
            raise RuntimeError(f"step {name!r} started inside step {self.current.name!r}")
        record = StepRecord(len(self.record.steps) + 1, name, now(), first_seq=self._seq(),
                            disturbs=list(disturbs))
        self.record.steps.append(record)
        self.current = record
        self._tell("start", record)
        try:
            yield record
        except pytest.skip.Exception as exc:
            self._finish(record, "skipped", str(exc.msg))
            raise
        except BaseException as exc:
            self._finish(record, "failed", first_line(exc))
            raise
        else:
            self._finish(record, "passed", "")

    def note(self, name: str, ok: bool, detail: str = "") -> Check:
        """Record a check in the current step (or as a drill note outside any step)."""
        check = Check(name, ok, detail)
        if self.current is not None:
            self.current.checks.append(check)
        else:
            self.record.notes.append(f"{'ok' if ok else 'FAILED'}: {name}: {detail}")
        return check

    def command(self, text: str) -> None:
        """Record a command and its result line (``zk-0$ hostname -> exit 0: zk-0``)."""
        if self.current is not None:
            self.current.commands.append(text)
        else:
            self.record.notes.append(text)

    def progress(self, detail: str) -> None:
        if self.current is not None:
            self.current.progress.append(f"{now():%H:%M:%S} {detail}")

    def _finish(self, record: StepRecord, outcome: str, message: str) -> None:
        record.ended = now()
        record.outcome = outcome
        record.message = message
        record.last_seq = self._seq()
        if self.pods is not None:
            record.pods = sorted(self.pods.current().values(), key=lambda s: s.name)
        self.current = None
        if self._add_property is not None:
            self._attach(record)
        self._tell("end", record)

    def _tell(self, what: str, record: StepRecord) -> None:
        for observer in self.observers:
            observer(what, record)

    def _attach(self, record: StepRecord) -> None:
        assert self._add_property is not None
        key = f"step.{record.index:02d}"
        self._add_property(key, record.summary())
        if record.pods:
            self._add_property(f"{key}.pods", "; ".join(p.row() for p in record.pods))
        if record.checks:
            checks = (f"{'ok' if c.ok else 'FAILED'} {c.name}: {c.detail}" for c in record.checks)
            self._add_property(f"{key}.zookeeper", "; ".join(checks))

    def _seq(self) -> int:
        return self.pods.last_seq if self.pods is not None else 0


def first_line(exc: BaseException) -> str:
    """``Type: first line`` of an error (with the next line when the first ends in ":")."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    line = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else "".join(lines[:1])
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def summarize(steps: Sequence[StepRecord]) -> str:
    return "\n".join(f"{s.index:2d}. {s.summary()}" for s in steps)
