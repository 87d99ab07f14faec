"""Write availability from the workload's history: gaps, budgets, per-client stalls (pure)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model.availability import Budget, judge, measure
from harness.model.ledger import Counts, Ledger, Op

T0 = 1000.0  # monotonic clocks do not start at zero


def history(*acks: tuple[str, str, float]) -> list[Op]:
    """Ops acknowledged at ``T0 + t``: (client, kind, t), each invoked 0.05 s before."""
    ledger = Ledger()
    for client, kind, t in acks:
        if kind == "create":
            op = ledger.invoke(client, "create", f"/w/{client}", "v", at=T0 + t - 0.05)
            ledger.complete(op, "ok", result=f"/w/{client}/w-{op:010d}", at=T0 + t)
        else:
            op = ledger.invoke(client, kind, "/r", "v", expect_version=0, at=T0 + t - 0.05)
            ledger.complete(op, "ok", result="1", at=T0 + t)
    return ledger.ops()


def steady(until: float, step: float = 0.5) -> list[tuple[str, str, float]]:
    acks = []
    t = step
    while t < until:
        acks += [("zk-0", "create", t), ("zk-1", "cas", t + 0.1), ("app", "create", t + 0.2)]
        t += step
    return acks


def test_steady_writes_are_available() -> None:
    got = measure(history(*steady(10.0)), T0, T0 + 10.0)
    assert got.longest_unavailable == pytest.approx(0.5)
    assert got.total_unavailable == 0.0 and got.gaps == ()
    assert got.counts == Counts(ok=len(steady(10.0)))
    assert set(got.per_client_longest) == {"zk-0", "zk-1", "app"}
    assert judge(got, Budget(2.0, "an election")) == []


def test_an_election_gap_is_measured_and_judged() -> None:
    acks = [a for a in steady(20.0) if not 6.0 < a[2] < 13.0]
    got = measure(history(*acks), T0, T0 + 20.0)
    assert got.longest_unavailable == pytest.approx(7.0)
    assert got.longest_gap == pytest.approx((T0 + 6.0, T0 + 13.0))
    assert got.total_unavailable == pytest.approx(7.0)
    assert judge(got, Budget(10.0, "two elections")) == []
    [problem] = judge(got, Budget(5.0, "one leader election, ZOOKEEPER-3756 stalls ~5 s"))
    assert problem == (
        "no write acknowledged for 7.00s (+6.00s..+13.00s), over the 5s budget "
        "(one leader election, ZOOKEEPER-3756 stalls ~5 s)"
    )
    assert "longest without one 7.00s (+6.00s..+13.00s)" in got.describe()


def test_window_edges_bound_the_gaps() -> None:
    got = measure(history(("app", "create", 4.0)), T0, T0 + 10.0)
    assert got.longest_gap == (T0 + 4.0, T0 + 10.0)
    assert got.gaps == ((T0, T0 + 4.0), (T0 + 4.0, T0 + 10.0))
    assert got.total_unavailable == pytest.approx(10.0)
    assert len(judge(got, Budget(3.0, "test"))) == 2
    nothing = measure([], T0, T0 + 3.0)
    assert nothing.longest_unavailable == 3.0 and nothing.acknowledged == 0
    assert nothing.per_client_longest == {}


def test_only_acknowledged_writes_count() -> None:
    ledger = Ledger()
    read = ledger.invoke("app", "read", "/r", at=T0 + 1.0)
    ledger.complete(read, "ok", result="0:", at=T0 + 1.1)
    failed = ledger.invoke("app", "cas", "/r", "x", expect_version=3, at=T0 + 2.0)
    ledger.complete(failed, "fail", error="BadVersion", at=T0 + 2.1)
    lost = ledger.invoke("zk-2", "create", "/w/zk-2", "v", at=T0 + 3.0)
    ledger.complete(lost, "info", error="ConnectionLoss", at=T0 + 4.0)
    ledger.invoke("zk-1", "create", "/w/zk-1", "v", at=T0 + 5.0)
    got = measure(ledger.ops(), T0, T0 + 6.0)
    assert got.acknowledged == 0 and got.longest_unavailable == 6.0
    assert got.counts == Counts(ok=1, fail=1, info=1, pending=1)
    assert got.per_client_longest == {"app": 6.0, "zk-1": 6.0, "zk-2": 6.0}


def test_per_client_stall_of_a_pinned_client() -> None:
    acks = [a for a in steady(20.0) if not (a[0] == "zk-0" and 4.0 < a[2] < 15.0)]
    got = measure(history(*acks), T0, T0 + 20.0)
    assert got.longest_unavailable == pytest.approx(0.5)  # the others kept writing
    assert got.per_client_longest["zk-0"] == pytest.approx(11.0)
    assert got.per_client_longest["app"] == pytest.approx(0.7)  # from the window's start
    assert "zk-0 11.0s" in got.describe()


def test_threshold_and_a_budget_below_it() -> None:
    acks = [("app", "create", t) for t in (1.0, 1.8, 3.5, 4.0)]
    got = measure(history(*acks), T0, T0 + 4.0, threshold=1.5)
    assert got.gaps == ((T0 + 1.8, T0 + 3.5),)
    assert got.total_unavailable == pytest.approx(1.7)
    # a budget below the threshold still sees the longest gap
    assert len(judge(got, Budget(0.5, "strict"))) == 1


def test_empty_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        measure([], T0 + 1.0, T0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 30.0, allow_nan=False), max_size=40))
def test_gaps_cover_the_window(times: list[float]) -> None:
    got = measure(history(*(("app", "cas", t + 0.05) for t in times)), T0, T0 + 30.1)
    ordered = sorted({T0, T0 + 30.1, *(T0 + t + 0.05 for t in times)})
    widest = max(b - a for a, b in pairwise(ordered))
    assert got.longest_unavailable == pytest.approx(widest)
    assert got.longest_gap[1] - got.longest_gap[0] == pytest.approx(widest)
    assert all(b - a > got.threshold for a, b in got.gaps)
    assert got.total_unavailable <= 30.1 + 1e-9


def test_the_leader_budget_follows_init_limit_and_tick_time() -> None:
    from harness.model.availability import DEFAULT_LEADER_BUDGET, leader_loss_budget

    seconds, why = leader_loss_budget({"tick_time": "2000", "init_limit": "10"})
    assert seconds == 25.0 and "initLimit 10 x tickTime 2s" in why
    assert leader_loss_budget({"tick_time": "500", "init_limit": "4"})[0] == 7.0
    assert leader_loss_budget({})[0] == DEFAULT_LEADER_BUDGET
