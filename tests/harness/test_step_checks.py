"""What a step checks by itself: bystander pods unchanged, and which write budget applies."""

from __future__ import annotations

from harness.model.bystanders import bystander_changes
from harness.model.ledger import Ledger
from harness.verify import Verifier
from tests.harness.timelines import snapshot

NAMES = ["zk-0", "zk-1", "zk-2"]


def ready_pods(**changed: object) -> dict:
    pods = {n: snapshot(n, "ready", uid=f"uid-{n}") for n in NAMES}
    pods.update(changed)  # type: ignore[arg-type]
    return pods


def test_an_undeclared_restart_is_named() -> None:
    after = ready_pods(**{"zk-1": snapshot("zk-1", "ready", uid="uid-zk-1", restarts=1)})
    assert bystander_changes(NAMES, ready_pods(), after, ["zk-0"]) == ["zk-1: restarts 0 -> 1"]


def test_declared_pods_may_change_and_unchanged_pods_pass() -> None:
    after = ready_pods(**{"zk-0": snapshot("zk-0", "error", uid="uid-zk-0")})
    assert bystander_changes(NAMES, ready_pods(), after, ["zk-0"]) == []
    assert bystander_changes(NAMES, ready_pods(), ready_pods(), []) == []


def test_a_replaced_or_unready_or_vanished_bystander_is_named() -> None:
    replaced = ready_pods(**{"zk-2": snapshot("zk-2", "ready", uid="other")})
    assert bystander_changes(NAMES, ready_pods(), replaced, [])[0].startswith(
        "zk-2: replaced (uid uid-zk-2 -> other)")
    unready = ready_pods(**{"zk-1": snapshot("zk-1", "running", uid="uid-zk-1")})
    assert "zk-1 1/1 Running 0 -> zk-1 0/1 Running 0" in bystander_changes(
        NAMES, ready_pods(), unready, [])[0]
    gone = ready_pods()
    del gone["zk-2"]
    assert bystander_changes(NAMES, ready_pods(), gone, [])[0].startswith("zk-2 disappeared")


class _Workload:
    ledger = Ledger()


def verifier(roles: dict[str, str]) -> Verifier:
    v = Verifier(_Workload(), dict, lambda: roles,  # type: ignore[arg-type]
                 leader_budget=(25.0, "one election"), follower_budget=3.0, zk_timeout=3.0)
    v.before_step()
    return v


def test_disturbing_the_last_seen_leader_costs_one_election() -> None:
    v = verifier({"zk-0": "follower", "zk-1": "leader", "zk-2": "follower"})
    budget = v.budget(["zk-1"], False)
    assert budget is not None and budget.max_unavailable == 25.0 and "zk-1 was the leader" in \
        budget.why
    v.modes = lambda: {"zk-0": "follower", "zk-1": "down", "zk-2": "leader"}
    v.before_step()  # zk-1 is down now: it is still remembered as the leader it was
    assert v.budget(["zk-1"], False).max_unavailable == 25.0  # type: ignore[union-attr]


def test_followers_cost_no_election_and_a_lost_quorum_has_no_budget() -> None:
    v = verifier({"zk-0": "follower", "zk-1": "leader", "zk-2": "follower"})
    assert v.budget(["zk-0"], False).max_unavailable == 3.0  # type: ignore[union-attr]
    assert v.budget([], False).max_unavailable == 3.0  # type: ignore[union-attr]
    assert v.budget(NAMES, True) is None
