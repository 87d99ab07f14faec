"""Write availability over a window of the workload's history (pure, no I/O).

A write (create or cas) is *available* when some client gets it acknowledged; the measure
is the gaps between acknowledgements (the window's edges count as acknowledgements, so a
window without any is one gap). A drill step declares a ``Budget`` for the longest gap it
may cause (an election, a rolling restart) and ``judge`` says where it was exceeded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from harness.model.ledger import OK, Counts, Op, count_ops

DEFAULT_THRESHOLD = 1.0


@dataclass(frozen=True)
class Availability:
    """Gaps between acknowledged writes in [start, end] (monotonic seconds).

    ``gaps``: every gap longer than ``threshold`` as (from, to), in time order;
    ``total_unavailable`` is their sum. ``per_client_longest``: the same longest-gap measure
    for each client alone (a client pinned to a stopped server is expected to stall).
    """

    start: float
    end: float
    threshold: float
    acknowledged: int
    longest_unavailable: float
    longest_gap: tuple[float, float]
    total_unavailable: float
    gaps: tuple[tuple[float, float], ...]
    per_client_longest: dict[str, float] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)

    def describe(self) -> str:
        """One line, times relative to ``start``."""
        a, b = (t - self.start for t in self.longest_gap)
        clients = ", ".join(f"{c} {s:.1f}s" for c, s in sorted(self.per_client_longest.items()))
        return (
            f"{self.acknowledged} writes acknowledged in {self.end - self.start:.1f}s "
            f"({self.counts}); longest without one {self.longest_unavailable:.2f}s "
            f"(+{a:.2f}s..+{b:.2f}s); {self.total_unavailable:.1f}s in "
            f"{len(self.gaps)} gaps over {self.threshold:g}s"
            + (f"; per client longest: {clients}" if clients else "")
        )


@dataclass(frozen=True)
class Budget:
    """The longest a step may leave writes unacknowledged, and why that much."""

    max_unavailable: float
    why: str


def _ack_times(ops: Iterable[Op], start: float, end: float) -> list[float]:
    return sorted(
        op.completed
        for op in ops
        if op.is_write
        and op.outcome == OK
        and op.completed is not None
        and start <= op.completed <= end
    )


def _gaps(acks: list[float], start: float, end: float) -> list[tuple[float, float]]:
    edges = [start, *acks, end]
    return list(pairwise(edges))


def measure(
    ops: Iterable[Op], start: float, end: float, *, threshold: float = DEFAULT_THRESHOLD
) -> Availability:
    """Availability of writes in [start, end] from the ledger's ops."""
    if end < start:
        raise ValueError(f"the window ends ({end}) before it starts ({start})")
    history = list(ops)
    acks = _ack_times(history, start, end)
    gaps = _gaps(acks, start, end)
    longest = max(gaps, key=lambda gap: gap[1] - gap[0])
    long_gaps = tuple(gap for gap in gaps if gap[1] - gap[0] > threshold)
    clients = sorted({op.client for op in history if op.invoked <= end})
    per_client = {}
    for client in clients:
        mine = _gaps(
            _ack_times((op for op in history if op.client == client), start, end), start, end
        )
        per_client[client] = max(b - a for a, b in mine)
    return Availability(
        start=start,
        end=end,
        threshold=threshold,
        acknowledged=len(acks),
        longest_unavailable=longest[1] - longest[0],
        longest_gap=longest,
        total_unavailable=sum(b - a for a, b in long_gaps),
        gaps=long_gaps,
        per_client_longest=per_client,
        counts=count_ops(history, start, end),
    )


def judge(availability: Availability, budget: Budget) -> list[str]:
    """Problems (empty when within budget): each gap over the budget, times from ``start``."""
    over = [gap for gap in availability.gaps if gap[1] - gap[0] > budget.max_unavailable]
    if not over and availability.longest_unavailable > budget.max_unavailable:
        over = [availability.longest_gap]  # the budget is below the threshold
    t0 = availability.start
    return [
        f"no write acknowledged for {b - a:.2f}s (+{a - t0:.2f}s..+{b - t0:.2f}s), over the "
        f"{budget.max_unavailable:g}s budget ({budget.why})"
        for a, b in over
    ]


ELECTION_SLACK = 5.0  # seconds for clients to notice, reconnect and find the new leader
DEFAULT_LEADER_BUDGET = 25.0  # the tutorial's initLimit x tickTime (20 s) + the slack


def leader_loss_budget(start_flags: Mapping[str, str],
                       zoo_cfg: Mapping[str, str] | None = None) -> tuple[float, str]:
    """Seconds a step that takes the leader away may leave writes unacknowledged, and why.

    initLimit and tickTime come from the start flags (the tutorial's ``start-zookeeper``)
    or, where those do not say (an image configured by environment or ConfigMap), from the
    live ``zoo_cfg`` values.

    A new leader waits up to initLimit x tickTime for a quorum of followers to sync before
    it serves (it gives up and a new election starts after that), so one election can
    legitimately cost that much; the clients then need a moment to find it.
    """
    source = ""
    if ("tick_time" not in start_flags or "init_limit" not in start_flags) and zoo_cfg:
        start_flags = {"tick_time": zoo_cfg.get("tickTime", ""),
                       "init_limit": zoo_cfg.get("initLimit", "")}
        source = " (from zoo.cfg)"
    try:
        tick = float(start_flags["tick_time"]) / 1000.0
        init = float(start_flags["init_limit"])
    except (KeyError, ValueError):
        return DEFAULT_LEADER_BUDGET, (
            f"one election: {DEFAULT_LEADER_BUDGET:g}s (the target's initLimit and tickTime "
            "are not known)")
    budget = init * tick + ELECTION_SLACK
    return budget, (f"one election: initLimit {init:g} x tickTime {tick:g}s + "
                    f"{ELECTION_SLACK:g}s{source}")
