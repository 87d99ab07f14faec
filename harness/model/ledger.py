"""The workload's history (Jepsen-style invoke/ok/fail/info) and the checks on created znodes.

Pure: no I/O. The workload's client threads append to one ``Ledger``; the drill's verdict
reads snapshots of it. An operation is *indeterminate* ("info": timeout, connection loss;
"pending": never answered) when it may or may not have taken effect: the checkers must
accept both, so a workload never turns an unknown outcome into "fail".

Created paths are checked in two ways: every acknowledged create must exist after the drill
(``lost_writes``), and every serving server must hold the same children up to the last
acknowledged sequence number of each client directory (``disagreement``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

KINDS = frozenset({"create", "cas", "read"})
PENDING, OK, FAIL, INFO = "pending", "ok", "fail", "info"
OUTCOMES = frozenset({OK, FAIL, INFO})  # what ``complete`` accepts
CLOSED_ERROR = "closed: the drill stopped waiting for the answer"

_SEQUENCE = re.compile(r"(\d{10})$")


@dataclass(frozen=True)
class Op:
    """One operation of one client, from invocation to (perhaps) completion.

    ``result``: create ok -> the created path; cas ok -> the new version as str;
    read ok -> ``f"{version}:{value}"``. Times are ``time.monotonic()`` seconds.
    """

    id: int
    client: str
    kind: str
    key: str
    value: str
    expect_version: int | None
    invoked: float
    completed: float | None
    outcome: str
    result: str | None
    error: str

    @property
    def determinate(self) -> bool:
        """True when the outcome is known: ok (took effect) or fail (did not)."""
        return self.outcome in (OK, FAIL)

    @property
    def is_write(self) -> bool:
        return self.kind in ("create", "cas")

    def describe(self, t0: float = 0.0) -> str:
        """One phrase, times from ``t0``: ``#7 zk-1 cas(v3->'x') ok '4' [+1.200s, +1.350s]``."""
        if self.kind == "cas":
            what = f"cas(v{self.expect_version}->{self.value!r})"
        elif self.kind == "read":
            what = "read"
        else:
            what = f"create under {self.key} {self.value!r}"
        answer = self.outcome
        if self.result is not None:
            answer += f" {self.result!r}"
        if self.error:
            answer += f" ({self.error})"
        done = "..." if self.completed is None else f"{self.completed - t0:+.3f}s"
        return f"#{self.id} {self.client} {what} {answer} [{self.invoked - t0:+.3f}s, {done}]"


@dataclass(frozen=True)
class Counts:
    """Operations by outcome over a window (ok/fail/info by completion time)."""

    ok: int = 0
    fail: int = 0
    info: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.ok + self.fail + self.info + self.pending

    def __str__(self) -> str:
        return f"ok {self.ok}, fail {self.fail}, info {self.info}, pending {self.pending}"


def count_ops(ops: Iterable[Op], start: float | None = None, end: float | None = None) -> Counts:
    """Outcomes of ops completed within [start, end]; pending = invoked by ``end`` and still
    unanswered at ``end`` (an op answered after ``end`` counts as pending)."""
    lo = -float("inf") if start is None else start
    hi = float("inf") if end is None else end
    tally = {OK: 0, FAIL: 0, INFO: 0, PENDING: 0}
    for op in ops:
        if op.completed is not None and op.completed <= hi and op.outcome != PENDING:
            if op.completed >= lo:
                tally[op.outcome] += 1
        elif op.invoked <= hi:
            tally[PENDING] += 1
    return Counts(tally[OK], tally[FAIL], tally[INFO], tally[PENDING])


class Ledger:
    """The thread-safe history the workload's clients append to.

    Ids are the positions in the history. ``close`` ends the history: pending ops become
    "info" and later invocations raise, so a verdict never races with a straggling client.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: list[Op] = []
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def invoke(
        self,
        client: str,
        kind: str,
        key: str,
        value: str = "",
        expect_version: int | None = None,
        at: float | None = None,
    ) -> int:
        """Record that ``client`` starts an operation; returns its id for ``complete``."""
        if kind not in KINDS:
            raise ValueError(f"unknown op kind {kind!r}; expected one of {sorted(KINDS)}")
        if kind == "cas" and expect_version is None:
            raise ValueError("a cas needs the version it expects")
        when = time.monotonic() if at is None else at
        with self._lock:
            if self._closed:
                raise RuntimeError(f"ledger closed; {client} cannot start a {kind}")
            op_id = len(self._ops)
            self._ops.append(
                Op(op_id, client, kind, key, value, expect_version, when, None, PENDING, None, "")
            )
        return op_id

    def complete(
        self,
        op_id: int,
        outcome: str,
        result: str | None = None,
        error: str = "",
        at: float | None = None,
    ) -> bool:
        """Record the answer to an op. Returns False (and changes nothing) when ``close``
        already made it "info": the verdict may have used that history already."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {sorted(OUTCOMES)}")
        when = time.monotonic() if at is None else at
        with self._lock:
            op = self._ops[op_id]
            if op.outcome != PENDING:
                if op.error == CLOSED_ERROR:
                    return False
                raise ValueError(f"op #{op_id} already completed ({op.outcome})")
            if outcome == OK and op.kind == "create" and result is None:
                raise ValueError(f"an ok create needs the created path (op #{op_id})")
            self._ops[op_id] = replace(
                op, completed=when, outcome=outcome, result=result, error=error
            )
        return True

    def close(self, at: float | None = None) -> int:
        """Turn every pending op into "info" (the drill stopped waiting); returns how many."""
        when = time.monotonic() if at is None else at
        closed = 0
        with self._lock:
            self._closed = True
            for index, op in enumerate(self._ops):
                if op.outcome == PENDING:
                    self._ops[index] = replace(
                        op, completed=max(when, op.invoked), outcome=INFO, error=CLOSED_ERROR
                    )
                    closed += 1
        return closed

    def ops(self, since: float | None = None, until: float | None = None) -> list[Op]:
        """A snapshot of the ops invoked within [since, until]."""
        with self._lock:
            snapshot = list(self._ops)
        return [
            op
            for op in snapshot
            if (since is None or op.invoked >= since) and (until is None or op.invoked <= until)
        ]

    def acked_creates(self, until: float | None = None) -> list[Op]:
        """Creates acknowledged (ok) by ``until``: each must exist on every server."""
        return [
            op
            for op in self.ops()
            if op.kind == "create"
            and op.outcome == OK
            and op.completed is not None
            and (until is None or op.completed <= until)
        ]

    def counts(self, start: float | None = None, end: float | None = None) -> Counts:
        return count_ops(self.ops(), start, end)


def lost_writes(acked: Sequence[Op], present: Collection[str]) -> list[Op]:
    """The acknowledged creates whose path (``Op.result``) is not in ``present``."""
    lost = []
    for op in acked:
        if op.kind != "create" or op.outcome != OK or op.result is None:
            raise ValueError(f"not an acknowledged create: {op.describe()}")
        if op.result not in present:
            lost.append(op)
    return lost


def sequence_number(path: str) -> int:
    """The 10-digit suffix ZooKeeper appends to a sequential znode's name."""
    match = _SEQUENCE.search(path)
    if match is None:
        raise ValueError(f"{path!r} does not end in a 10-digit sequence number")
    return int(match.group(1))


def cutoffs_of(acked: Iterable[Op]) -> dict[str, int]:
    """Client dir (last element of ``Op.key``) -> highest acknowledged sequence number."""
    cutoffs: dict[str, int] = {}
    for op in acked:
        if op.result is None:
            continue
        directory = op.key.rstrip("/").rsplit("/", 1)[-1]
        cutoffs[directory] = max(cutoffs.get(directory, -1), sequence_number(op.result))
    return cutoffs


def _names(directory: str, children: Iterable[str], limit: int = 5) -> str:
    ordered = sorted(children, key=lambda child: (sequence_number(child), child))
    shown = ", ".join(f"{directory}/{child}" for child in ordered[:limit])
    more = len(ordered) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _below(children: Iterable[str], cutoff: int) -> set[str]:
    """Children with a sequence number <= cutoff (names without one are not workload's)."""
    kept = set()
    for child in children:
        match = _SEQUENCE.search(child)
        if match is not None and int(match.group(1)) <= cutoff:
            kept.add(child)
    return kept


def disagreement(
    children: Mapping[str, Mapping[str, Collection[str]]], cutoffs: Mapping[str, int]
) -> list[str]:
    """How serving servers differ on the children committed before the check started.

    ``children``: server -> client dir -> child names read on that server after ``sync``;
    ``cutoffs``: client dir -> highest sequence number acknowledged before the check. Every
    child at or below the cutoff was committed before an acknowledged write, so all servers
    must hold exactly the same such children. A child held by fewer than half the servers is
    reported as an extra on its holders, otherwise as missing on the others.
    """
    servers = sorted(children)
    problems: list[str] = []
    for directory in sorted(cutoffs):
        held = {s: _below(children[s].get(directory, ()), cutoffs[directory]) for s in servers}
        everywhere = set().union(*held.values()) if held else set()
        # (server, "lacks"/"has", other servers) -> children
        grouped: dict[tuple[str, str, tuple[str, ...]], set[str]] = {}
        for child in everywhere:
            holders = tuple(s for s in servers if child in held[s])
            others = tuple(s for s in servers if child not in held[s])
            if not others:
                continue
            if 2 * len(holders) < len(servers):
                for server in holders:
                    peers = tuple(s for s in holders if s != server)
                    grouped.setdefault((server, "has", peers), set()).add(child)
            else:
                for server in others:
                    grouped.setdefault((server, "lacks", holders), set()).add(child)
        for (server, how, peers), names in sorted(grouped.items()):
            listed = _names(directory, names)
            if how == "lacks":
                problems.append(f"{server} lacks {listed} that {', '.join(peers)} have")
            elif peers:
                problems.append(f"{server} has {listed} that only {', '.join(peers)} also have")
            else:
                problems.append(f"{server} has {listed} that no other server has")
    return problems
