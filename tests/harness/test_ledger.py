"""The workload ledger: recording a history, lost writes and server disagreement (pure)."""

from __future__ import annotations

import threading

import pytest

from harness.model.ledger import (
    CLOSED_ERROR,
    Counts,
    Ledger,
    cutoffs_of,
    disagreement,
    lost_writes,
    sequence_number,
)

RUN = "/zkdrill/work/r1"


def path(client: str, seq: int) -> str:
    return f"{RUN}/{client}/w-{seq:010d}"


def test_invoke_complete_and_snapshot() -> None:
    ledger = Ledger()
    a = ledger.invoke("zk-0", "create", f"{RUN}/zk-0", "v1", at=1.0)
    b = ledger.invoke("app", "cas", "/zkdrill/register", "x", expect_version=0, at=1.5)
    assert ledger.complete(a, "ok", result=path("zk-0", 0), at=2.0)
    ops = ledger.ops()
    assert [op.id for op in ops] == [a, b]
    assert ops[0].outcome == "ok" and ops[0].completed == 2.0 and ops[0].determinate
    assert ops[1].outcome == "pending" and not ops[1].determinate
    assert [op.id for op in ledger.ops(since=1.2)] == [b]
    assert [op.id for op in ledger.ops(until=1.2)] == [a]
    assert ledger.counts() == Counts(ok=1, pending=1)


def test_invoke_rejects_bad_ops() -> None:
    ledger = Ledger()
    with pytest.raises(ValueError, match="unknown op kind"):
        ledger.invoke("zk-0", "delete", "/x")
    with pytest.raises(ValueError, match="expects"):
        ledger.invoke("zk-0", "cas", "/r", "x")
    op = ledger.invoke("zk-0", "create", "/d", "v", at=0.0)
    with pytest.raises(ValueError, match="created path"):
        ledger.complete(op, "ok", at=1.0)
    with pytest.raises(ValueError, match="unknown outcome"):
        ledger.complete(op, "timeout", at=1.0)
    ledger.complete(op, "fail", error="NoNode", at=1.0)
    with pytest.raises(ValueError, match="already completed"):
        ledger.complete(op, "ok", result="/d/w-0000000000", at=2.0)


def test_close_turns_pending_into_info_and_ignores_late_answers() -> None:
    ledger = Ledger()
    done = ledger.invoke("zk-0", "cas", "/r", "a", expect_version=0, at=0.0)
    ledger.complete(done, "ok", result="1", at=0.5)
    hanging = ledger.invoke("zk-1", "cas", "/r", "b", expect_version=1, at=1.0)
    assert ledger.close(at=5.0) == 1
    op = ledger.ops()[hanging]
    assert (op.outcome, op.completed, op.error) == ("info", 5.0, CLOSED_ERROR)
    assert ledger.complete(hanging, "ok", result="2", at=6.0) is False
    assert ledger.ops()[hanging].outcome == "info"
    assert ledger.closed
    with pytest.raises(RuntimeError, match="closed"):
        ledger.invoke("zk-2", "read", "/r")


def test_counts_by_completion_time() -> None:
    ledger = Ledger()
    for i, outcome in enumerate(["ok", "fail", "info", "ok"]):
        op = ledger.invoke("app", "cas", "/r", str(i), expect_version=i, at=float(i))
        ledger.complete(op, outcome, at=i + 0.5)
    ledger.invoke("app", "read", "/r", at=3.8)
    assert ledger.counts(start=0.9, end=2.6) == Counts(ok=0, fail=1, info=1, pending=0)
    # the op completed at 3.5 is still pending at 3.0
    assert ledger.counts(start=2.0, end=3.0) == Counts(info=1, pending=1)
    assert ledger.counts() == Counts(ok=2, fail=1, info=1, pending=1)
    assert ledger.counts().total == 5


def test_concurrent_appends_get_distinct_ids() -> None:
    ledger = Ledger()

    def client(name: str) -> None:
        for i in range(200):
            op = ledger.invoke(name, "create", f"{RUN}/{name}", str(i))
            ledger.complete(op, "ok", result=path(name, i))

    threads = [threading.Thread(target=client, args=(f"zk-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ops = ledger.ops()
    assert [op.id for op in ops] == list(range(800))
    assert len(ledger.acked_creates()) == 800


def test_lost_acknowledged_write_is_caught() -> None:
    ledger = Ledger()
    for seq in range(3):
        op = ledger.invoke("zk-0", "create", f"{RUN}/zk-0", f"v{seq}", at=float(seq))
        ledger.complete(op, "ok", result=path("zk-0", seq), at=seq + 0.1)
    unknown = ledger.invoke("zk-0", "create", f"{RUN}/zk-0", "v3", at=3.0)
    ledger.complete(unknown, "info", error="ConnectionLoss", at=4.0)
    acked = ledger.acked_creates()
    assert len(acked) == 3  # an indeterminate create is not acknowledged
    present = {path("zk-0", 0), path("zk-0", 2)}
    lost = lost_writes(acked, present)
    assert [op.result for op in lost] == [path("zk-0", 1)]
    assert lost_writes(acked, present | {path("zk-0", 1)}) == []
    assert [op.result for op in ledger.acked_creates(until=1.5)] == [
        path("zk-0", 0),
        path("zk-0", 1),
    ]


def test_lost_writes_rejects_unacknowledged_ops() -> None:
    ledger = Ledger()
    op = ledger.invoke("zk-0", "create", f"{RUN}/zk-0", "v", at=0.0)
    with pytest.raises(ValueError, match="not an acknowledged create"):
        lost_writes(ledger.ops(), set())
    ledger.complete(op, "info", at=1.0)
    with pytest.raises(ValueError, match="not an acknowledged create"):
        lost_writes(ledger.ops(), set())


def test_sequence_number() -> None:
    assert sequence_number(path("zk-0", 12)) == 12
    assert sequence_number("w-0000000000") == 0
    with pytest.raises(ValueError, match="10-digit"):
        sequence_number("/zkdrill/work/r1/zk-0/w-12")


def test_cutoffs_from_acknowledged_creates() -> None:
    ledger = Ledger()
    for client, seq in [("zk-0", 3), ("zk-0", 7), ("app", 2)]:
        op = ledger.invoke(client, "create", f"{RUN}/{client}", "v", at=0.0)
        ledger.complete(op, "ok", result=path(client, seq), at=1.0)
    assert cutoffs_of(ledger.acked_creates()) == {"zk-0": 7, "app": 2}


def names(*seqs: int) -> set[str]:
    return {f"w-{seq:010d}" for seq in seqs}


def test_agreeing_servers_and_children_above_cutoff_pass() -> None:
    children = {
        "zk-0": {"zk-0": names(10, 11, 12, 13), "zk-app": names(5, 6, 7)},
        "zk-1": {"zk-0": names(10, 11, 12), "zk-app": names(5, 6, 7, 8)},
        "zk-2": {"zk-0": names(10, 11, 12, 14), "zk-app": names(5, 6, 7) | {"lock"}},
    }
    assert disagreement(children, {"zk-0": 12, "zk-app": 7}) == []


def test_server_missing_an_acknowledged_write_is_caught() -> None:
    children = {
        "zk-0": {"zk-0": names(10, 11, 12)},
        "zk-1": {"zk-0": names(10, 11, 12)},
        "zk-2": {"zk-0": names(10, 11)},
    }
    assert disagreement(children, {"zk-0": 12}) == [
        "zk-2 lacks zk-0/w-0000000012 that zk-0, zk-1 have"
    ]


def test_server_without_the_directory_lacks_everything() -> None:
    children = {"zk-0": {"zk-1": names(1, 2)}, "zk-1": {"zk-1": names(1, 2)}, "zk-2": {}}
    assert disagreement(children, {"zk-1": 2}) == [
        "zk-2 lacks zk-1/w-0000000001, zk-1/w-0000000002 that zk-0, zk-1 have"
    ]


def test_diverged_server_with_an_extra_child_is_caught() -> None:
    children = {
        "zk-0": {"zk-app": names(5, 6, 8)},
        "zk-1": {"zk-app": names(5, 6, 7, 8)},
        "zk-2": {"zk-app": names(5, 6, 8)},
    }
    assert disagreement(children, {"zk-app": 8}) == [
        "zk-1 has zk-app/w-0000000007 that no other server has"
    ]


def test_many_differing_children_are_summarised() -> None:
    children = {"zk-0": {"d": names(*range(20))}, "zk-1": {"d": names(*range(20))}, "zk-2": {}}
    [line] = disagreement(children, {"d": 19})
    assert line.startswith("zk-2 lacks d/w-0000000000, ") and "and 15 more that zk-0, zk-1" in line
