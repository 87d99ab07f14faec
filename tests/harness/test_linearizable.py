"""The linearizability checker: hand-made CAS histories, generated ones, and real Jepsen
histories of etcd from Porcupine (tests/harness/data/porcupine_etcd.json, MIT, see there)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model.ledger import Ledger, Op
from harness.model.linearizable import (
    DEFAULT_MAX_STATES,
    NOT_LINEARIZABLE,
    UNDECIDED,
    CasRegister,
    Register,
    Verdict,
    check,
    register_ops,
)

REG = "/zkdrill/register"
DATA = Path(__file__).parent / "data" / "porcupine_etcd.json"


class History:
    """Builds ops with explicit times."""

    def __init__(self) -> None:
        self.ops: list[Op] = []

    def cas(
        self, client: str, expect: int, value: str, at: float, done: float | None, outcome: str
    ) -> History:
        result = str(expect + 1) if outcome == "ok" else None
        self.ops.append(
            Op(len(self.ops), client, "cas", REG, value, expect, at, done, outcome, result, "")
        )
        return self

    def read(self, client: str, version: int, value: str, at: float, done: float) -> History:
        result = f"{version}:{value}"
        self.ops.append(
            Op(len(self.ops), client, "read", REG, "", None, at, done, "ok", result, "")
        )
        return self


def verdict(history: History, max_states: int = DEFAULT_MAX_STATES) -> Verdict:
    return check(history.ops, CasRegister(), max_states=max_states)


# --- histories that must fail ---------------------------------------------------------


def test_two_overlapping_ok_cas_with_the_same_expected_version() -> None:
    h = History().cas("zk-0", 0, "a", 0.0, 2.0, "ok").cas("zk-1", 0, "b", 1.0, 3.0, "ok")
    result = verdict(h)
    assert not result.ok and result.decided and result.status == NOT_LINEARIZABLE
    assert "zk-1 cas(v0->'b') ok '1' [+1.000s, +3.000s]" in result.detail
    assert [op.client for op in result.longest_prefix] == ["zk-0"]
    assert result.unplaced[0].client == "zk-1"


def test_read_of_a_value_never_written() -> None:
    h = History().cas("zk-0", 0, "a", 0.0, 1.0, "ok").read("app", 1, "zzz", 2.0, 3.0)
    result = verdict(h)
    assert not result.ok
    assert "app read ok '1:zzz'" in result.detail
    assert "Register(version=1, value='a')" in result.detail


def test_stale_read_after_a_later_cas_completed() -> None:
    h = (
        History()
        .cas("zk-0", 0, "a", 0.0, 1.0, "ok")
        .cas("zk-1", 1, "b", 1.5, 2.0, "ok")
        .read("app", 1, "a", 3.0, 4.0)
    )
    assert not verdict(h).ok


def test_bad_version_without_a_concurrent_writer() -> None:
    h = History().cas("zk-1", 0, "b", 0.0, 1.0, "fail").cas("zk-0", 0, "a", 2.0, 3.0, "ok")
    result = verdict(h)
    assert not result.ok and "zk-1 cas(v0->'b') fail" in result.detail


def test_ok_cas_reporting_the_wrong_new_version() -> None:
    op = Op(0, "zk-0", "cas", REG, "a", 0, 0.0, 1.0, "ok", "7", "")
    assert not check([op], CasRegister()).ok


# --- histories that must pass ---------------------------------------------------------


def test_indeterminate_cas_that_took_effect() -> None:
    h = (
        History()
        .cas("zk-0", 0, "a", 0.0, None, "info")
        .read("app", 1, "a", 5.0, 6.0)
        .cas("app", 1, "b", 7.0, 8.0, "ok")
    )
    result = verdict(h)
    assert result.ok, result.detail
    assert [op.value for op in result.longest_prefix if op.kind == "cas"] == ["a", "b"]


def test_indeterminate_cas_that_did_not_take_effect() -> None:
    h = History().cas("zk-0", 0, "a", 0.0, 9.0, "info").cas("app", 0, "b", 5.0, 6.0, "ok")
    result = verdict(h)
    assert result.ok and [op.value for op in result.longest_prefix] == ["b"]


def test_pending_ops_are_indeterminate() -> None:
    h = History().cas("zk-0", 0, "a", 0.0, None, "pending").read("app", 0, "", 5.0, 6.0)
    assert verdict(h).ok


def test_concurrent_cas_where_only_one_succeeds() -> None:
    h = History().cas("zk-0", 0, "a", 0.0, 2.0, "ok").cas("zk-1", 0, "b", 1.0, 3.0, "fail")
    assert verdict(h).ok


def test_bad_version_explained_by_a_concurrent_ok_cas() -> None:
    h = History().cas("zk-1", 0, "b", 0.0, 3.0, "fail").cas("zk-0", 0, "a", 1.0, 2.0, "ok")
    result = verdict(h)
    assert result.ok and [op.client for op in result.longest_prefix] == ["zk-0", "zk-1"]


def test_ops_touching_at_an_instant_are_concurrent() -> None:
    h = History().read("app", 1, "a", 0.0, 1.0).cas("zk-0", 0, "a", 1.0, 2.0, "ok")
    assert verdict(h).ok


def test_initial_state_and_empty_history() -> None:
    h = History().cas("zk-0", 4, "a", 0.0, 1.0, "ok")
    assert not verdict(h).ok
    assert check(h.ops, CasRegister(), initial=Register(4, "x")).ok
    assert check(h.ops, CasRegister(version=4)).ok
    assert check([], CasRegister()).ok


def test_register_ops_selects_one_register_from_a_ledger() -> None:
    ledger = Ledger()
    create = ledger.invoke("zk-0", "create", "/w/zk-0", "v", at=0.0)
    ledger.complete(create, "ok", result="/w/zk-0/w-0000000000", at=0.5)
    read = ledger.invoke("zk-0", "read", REG, at=1.0)
    ledger.complete(read, "ok", result="0:", at=1.5)
    cas = ledger.invoke("zk-0", "cas", REG, "a", expect_version=0, at=2.0)
    ledger.complete(cas, "ok", result="1", at=2.5)
    ledger.invoke("zk-1", "cas", "/other", "b", expect_version=0, at=3.0)
    assert [op.id for op in register_ops(ledger.ops(), REG)] == [cas]
    assert [op.id for op in register_ops(ledger.ops(), REG, reads=True)] == [read, cas]
    with pytest.raises(ValueError, match="several registers"):
        register_ops(ledger.ops())
    ledger.close(at=4.0)
    assert check(register_ops(ledger.ops(), REG, reads=True), CasRegister()).ok
    with pytest.raises(ValueError, match="no 'create' op"):
        check(ledger.ops(), CasRegister())


# --- budget ---------------------------------------------------------------------------


def contended(clients: int, rounds: int) -> History:
    """Every client's CAS overlaps all the others' in every round; all indeterminate except
    a final impossible read, so the search has to exhaust the orders before it gives up."""
    h = History()
    for r in range(rounds):
        for c in range(clients):
            h.cas(f"c{c}", r, f"{r}.{c}", float(r), None, "info")
    h.read("app", 99, "never", rounds + 1.0, rounds + 2.0)
    return h


def test_budget_gives_an_undecided_verdict() -> None:
    result = verdict(contended(4, 12), max_states=500)
    assert not result.ok and not result.decided and result.status == UNDECIDED
    assert result.detail.startswith("undecided: gave up after")


# --- generated histories --------------------------------------------------------------


def simulate(seed: int, clients: int, steps: int, info_rate: float) -> list[Op]:
    """A linearizable history: each client's ops take effect at a point inside its interval
    on one true register; some answers are lost (info) whether or not the op took effect."""
    rnd = random.Random(seed)
    reg = Register(0, "")
    free_at = [0.0] * clients
    ops: list[Op] = []
    now = 0.0
    for n in range(steps):
        now += rnd.uniform(0.0, 0.3)
        idle = [c for c in range(clients) if free_at[c] <= now]
        if not idle:
            now = min(free_at)
            idle = [c for c in range(clients) if free_at[c] <= now]
        c = rnd.choice(idle)
        invoked = rnd.uniform(max(free_at[c], now - 0.5), now)  # takes effect at ``now``
        done: float | None = now + rnd.uniform(0.0, 0.5)
        free_at[c] = done or now
        client = f"c{c}"
        if rnd.random() < 0.3:
            seen = f"{reg.version}:{reg.value}"
            ops.append(Op(n, client, "read", REG, "", None, invoked, done, "ok", seen, ""))
            continue
        expect = reg.version if rnd.random() < 0.6 else rnd.randrange(reg.version + 2)
        value = f"v{n}"
        applies = expect == reg.version
        if applies:
            reg = Register(reg.version + 1, value)
        outcome, result = ("ok", str(reg.version)) if applies else ("fail", None)
        if rnd.random() < info_rate:
            outcome, result, done = "info", None, None
        ops.append(Op(n, client, "cas", REG, value, expect, invoked, done, outcome, result, ""))
    return ops


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    clients=st.integers(1, 5),
    steps=st.integers(0, 60),
    info_rate=st.sampled_from([0.0, 0.1, 0.3]),
)
def test_simulated_histories_are_linearizable(
    seed: int, clients: int, steps: int, info_rate: float
) -> None:
    result = check(simulate(seed, clients, steps, info_rate), CasRegister())
    assert result.ok, result.detail


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), clients=st.integers(1, 5), steps=st.integers(1, 60))
def test_a_read_of_an_unwritten_value_is_always_caught(seed: int, clients: int, steps: int) -> None:
    ops = simulate(seed, clients, steps, 0.1)
    last = max((op.completed or op.invoked) for op in ops)
    bogus = Op(len(ops), "app", "read", REG, "", None, last + 1, last + 2, "ok", "0:bogus", "")
    assert not check([*ops, bogus], CasRegister()).ok


def test_a_long_history_checks_quickly() -> None:
    ops = simulate(7, 5, 3000, 0.02)
    result = check(ops, CasRegister())
    assert result.ok, result.detail


# --- real Jepsen histories (Porcupine's etcd test data) -------------------------------


class EtcdRegister:
    """Porcupine's etcd key model: read, write, cas [from to] on an int (None = no value).
    In the converted ops, ``expect_version`` holds the cas's from-value."""

    def init(self) -> int | None:
        return None

    def step(self, state: int | None, op: Op) -> list[int | None]:
        if op.kind == "read":
            seen = None if op.result == "nil" else int(op.result or "0")
            return [state] if op.outcome != "ok" or seen == state else []
        new = int(op.value)
        if op.kind == "write":
            return [new]
        matches = state == op.expect_version
        if op.outcome == "ok":
            return [new] if matches else []
        if op.outcome == "fail":
            return [] if matches else [state]
        return [new, state] if matches else [state]


def jepsen_histories() -> dict[str, tuple[bool, list[Op]]]:
    data = json.loads(DATA.read_text())
    histories = {}
    for name, entry in data["histories"].items():
        ops = [
            Op(i, client, kind, "k", value, expect, invoked, completed, outcome, result, "")
            for i, (client, kind, value, expect, invoked, completed, outcome, result) in (
                enumerate(entry["ops"])
            )
        ]
        histories[name] = (entry["linearizable"], ops)
    return histories


@pytest.mark.parametrize("name", sorted(jepsen_histories()))
def test_agrees_with_porcupine_on_jepsen_etcd_histories(name: str) -> None:
    expected, ops = jepsen_histories()[name]
    result = check(ops, EtcdRegister())
    assert result.decided and result.ok == expected, result.detail
