"""The verdict on the workload: after every step, and at the end of the drill.

After each step of a drill that runs the workload (``Verifier.after_step``):

- on every server that is serving (``srvr``: leader, follower or standalone), after
  ``sync``, every write acknowledged before the check is there, and the servers hold the
  same workload znodes up to each client's last acknowledged sequence number;
- the write unavailability of the step (the longest time no client got a write
  acknowledged) is within its budget: ``--budget-leader-loss`` when a pod the step
  disturbs was last seen leading, ``--budget-follower-loss`` otherwise, none when the step
  declares that the quorum may be lost.

At the end (``Verifier.finish``, with the ensemble whole again): no acknowledged write is
missing on any server, and the compare-and-set register's history is linearizable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from kazoo.exceptions import KazooException

from harness.errors import HarnessError
from harness.model.availability import Availability, Budget, judge, measure
from harness.model.ledger import Op, cutoffs_of, disagreement, lost_writes
from harness.model.linearizable import CasRegister, check, register_ops
from harness.zk.endpoint import Endpoint
from harness.zk.workload import APP, ServerData, Workload

SERVING = ("leader", "follower", "standalone")


@dataclass
class StepVerdict:
    problems: list[str] = field(default_factory=list)
    notes: list[tuple[str, bool, str]] = field(default_factory=list)  # (name, ok, detail)


class Verifier:
    """Checks one drill's workload; ``modes`` asks every server its ``srvr`` mode."""

    def __init__(self, workload: Workload, endpoints: Callable[[], Mapping[str, Endpoint]],
                 modes: Callable[[], Mapping[str, str]], *, leader_budget: tuple[float, str],
                 follower_budget: float, zk_timeout: float) -> None:
        self.workload = workload
        self.endpoints = endpoints
        self.modes = modes
        self.leader_budget = leader_budget
        self.follower_budget = follower_budget
        self.zk_timeout = zk_timeout
        self.last_roles: dict[str, str] = {}
        self.longest_gap = 0.0

    # -- per step --------------------------------------------------------------------------------
    def before_step(self) -> None:
        """Remember who leads: a step that disturbs the last seen leader costs an election."""
        for pod, mode in self.modes().items():
            if mode in SERVING:
                self.last_roles[pod] = mode

    def budget(self, disturbs: Collection[str], may_lose_quorum: bool) -> Budget | None:
        if may_lose_quorum:
            return None
        led = sorted(p for p in disturbs if self.last_roles.get(p) == "leader")
        if led:
            seconds, why = self.leader_budget
            return Budget(seconds, f"{led[0]} was the leader; {why}")
        what = f"{', '.join(sorted(disturbs))} followed" if disturbs else "nothing disturbed"
        return Budget(self.follower_budget, f"{what}: no election")

    def after_step(self, started: float, disturbs: Collection[str], may_lose_quorum: bool
                   ) -> StepVerdict:
        ended = time.monotonic()
        verdict = StepVerdict()
        availability = measure(self.workload.ledger.ops(), started, ended)
        self.longest_gap = max(self.longest_gap, availability.longest_unavailable)
        budget = self.budget(disturbs, may_lose_quorum)
        over = judge(availability, budget) if budget else []
        verdict.notes.append(("workload", not over, availability.describe() + (
            f"; budget {budget.max_unavailable:g}s ({budget.why})" if budget
            else "; no budget: the step may lose the quorum")))
        verdict.problems += over
        modes = dict(self.modes())
        serving = {p: ep for p, ep in self.endpoints().items() if modes.get(p) in SERVING}
        verdict.notes.append(("servers serving", bool(serving), ", ".join(
            f"{p} {m}" for p, m in sorted(modes.items()))))
        verdict.problems += self._data_problems(serving, ended, verdict)
        return verdict

    def _data_problems(self, serving: Mapping[str, Endpoint], until: float,
                       verdict: StepVerdict) -> list[str]:
        acked = self.workload.ledger.acked_creates(until=until)
        seen = self.workload.snapshot(serving, self.zk_timeout)
        readable = [s for s in seen if not s.error]
        for s in seen:
            if s.error:
                verdict.notes.append((f"workload data on {s.server}", True,
                                      f"not read (it stopped serving meanwhile): {s.error}"))
        problems = []
        for data in readable:
            lost = lost_writes(acked, self._paths(data))
            verdict.notes.append((f"acknowledged writes on {data.server}", not lost,
                                  f"{len(acked) - len(lost)}/{len(acked)} present after sync"))
            if lost:
                problems.append(f"{data.server} is missing {len(lost)} acknowledged write(s): "
                                + ", ".join(op.result or "?" for op in lost[:5]))
        if len(readable) > 1:
            differ = disagreement({d.server: d.children for d in readable}, cutoffs_of(acked))
            verdict.notes.append(("serving servers agree", not differ,
                                  "; ".join(differ) or f"{len(readable)} servers agree"))
            problems += differ
        return problems

    def _paths(self, data: ServerData) -> set[str]:
        return {f"{self.workload.directory(client)}/{child}"
                for client, children in data.children.items() for child in children}

    # -- at the end ------------------------------------------------------------------------------
    def finish(self) -> tuple[list[str], dict[str, object], list[tuple[str, bool, str]]]:
        """Stop the workload; (problems, summary figures, notes) for the whole drill."""
        self.workload.stop()
        ops = self.workload.ledger.ops()
        full_timeout = max(self.zk_timeout, 10.0)
        notes: list[tuple[str, bool, str]] = []
        problems: list[str] = []
        acked = [op for op in ops if op.kind == "create" and op.outcome == "ok"]
        lost_anywhere: set[int] = set()
        for data in self.workload.snapshot(self.endpoints(), full_timeout):
            if data.error:
                problems.append(f"could not read the workload's data on {data.server}: "
                                f"{data.error}")
                continue
            lost = lost_writes(acked, self._paths(data))
            lost_anywhere.update(op.id for op in lost)
            notes.append((f"no acknowledged write lost on {data.server}", not lost,
                          f"{len(acked) - len(lost)}/{len(acked)} present"))
            if lost:
                problems.append(f"{data.server} lost {len(lost)} acknowledged write(s): "
                                + ", ".join(f"{op.result} ({op.client})" for op in lost[:5]))
        verdict = check(register_ops(ops, self.workload.register), CasRegister(0, "0"))
        notes.append(("the register's compare-and-set history is linearizable", verdict.ok,
                      verdict.detail))
        if not verdict.ok:
            problems.append(f"register history {verdict.status}: {verdict.detail}")
        whole = measure(ops, self.workload.started, time.monotonic())
        notes.append(("workload over the drill", True, whole.describe()))
        if not problems:  # keep the evidence when something is wrong
            endpoint = next(iter(self.endpoints().values()))
            try:
                self.workload.remove(endpoint, full_timeout)
                notes.append(("workload data removed", True, self.workload.root))
            except (HarnessError, KazooException) as exc:
                notes.append(("workload data removed", False, f"{self.workload.root}: {exc}"))
        summary = _summary(ops, whole, len(lost_anywhere), self.longest_gap)
        return problems, summary, notes


def _summary(ops: list[Op], whole: Availability, lost: int, longest: float
             ) -> dict[str, object]:
    writes = [op for op in ops if op.is_write]
    return {
        "acknowledged": sum(op.outcome == "ok" for op in writes),
        "failed": sum(op.outcome == "fail" for op in writes),
        "indeterminate": sum(op.outcome in ("info", "pending") for op in writes),
        "lost": lost,
        "longest_gap": round(max(longest, whole.longest_unavailable), 3),
        "clients": sorted({op.client for op in ops} | {APP}),
    }
