"""What the disruption drills conclude from timelines and specs (harness.model.disruption)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from harness.model.disruption import (
    ProbeTimes,
    cpu_millis,
    endpoint_state,
    fewest_ready,
    hostname_anti_affinity,
    restart_trace,
    selector_matches,
    update_order,
)
from harness.model.pod_status import PodSnapshot
from harness.settings import DEFAULT_MANIFEST
from harness.timeline import PodEvent
from tests.harness import pods

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


class Timeline:
    def __init__(self) -> None:
        self.events: list[PodEvent] = []

    def add(self, at: float, name: str, state: str, *, uid: str = "", restarts: int = 0,
            kind: str = "MODIFIED") -> Timeline:
        ready = state == "ready"
        if state == "error":
            statuses = [pods.status(pods.terminated(143, "Error"), restarts=restarts)]
        else:
            statuses = [pods.status(pods.running(), ready=ready, restarts=restarts)]
        raw = pods.pod(name, ready=ready, statuses=statuses, deleting=state == "terminating")
        raw["metadata"]["uid"] = uid or f"uid-{name}"
        self.events.append(PodEvent(len(self.events) + 1, T0 + timedelta(seconds=at), at, kind,
                                    PodSnapshot.from_pod(raw)))
        return self


def test_probe_budget_from_the_tutorials_probe() -> None:
    times = ProbeTimes.of({"exec": {}, "initialDelaySeconds": 10, "timeoutSeconds": 5})
    assert times is not None
    assert (times.period, times.failure_threshold) == (10, 3)  # API defaults
    assert times.earliest_action == 20 and times.latest_action == 45
    assert ProbeTimes.of(None) is None


def test_restart_trace_reads_the_tutorials_process_failure() -> None:
    t = (Timeline().add(0, "zk-0", "ready").add(1, "zk-1", "running")
         .add(2, "zk-0", "error").add(2.1, "zk-0", "running", restarts=1)
         .add(12, "zk-0", "ready", restarts=1))
    trace = restart_trace(t.events[1:], "zk-0", "uid-zk-0", 0)
    assert trace.unready.seq == 3 and trace.error.seq == 3
    assert trace.restarted.seq == 4 and trace.ready_again.seq == 5
    assert trace.replaced is None
    assert trace.rows()[0].endswith("zk-0 0/1 Error 0")


def test_a_new_pod_is_not_a_restart() -> None:
    t = Timeline().add(0, "zk-0", "ready", uid="new", restarts=0)
    trace = restart_trace(t.events, "zk-0", "old", 0)
    assert trace.replaced is not None and trace.restarted is None


def rolling(order: list[str], *, overlap: bool = False) -> Timeline:
    t = Timeline()
    at = 0.0
    for name in order:
        t.add(at, name, "terminating")
        t.add(at + 1, name, "running", uid=f"new-{name}", kind="ADDED")
        if overlap and name == order[0]:
            at += 2
            continue  # the next pod goes before this one is Ready
        t.add(at + 10, name, "ready", uid=f"new-{name}")
        at += 11
    if overlap:
        t.add(at + 20, order[0], "ready", uid=f"new-{order[0]}")
    return t


OLD = {n: f"uid-{n}" for n in ("zk-0", "zk-1", "zk-2")}


def test_update_order_accepts_one_at_a_time_highest_first() -> None:
    result = update_order(rolling(["zk-2", "zk-1", "zk-0"]).events, ["zk-2", "zk-1", "zk-0"], OLD)
    assert result.ok, result.problems
    assert result.evidence()[0].startswith("zk-2: old went #1")


def test_update_order_catches_the_wrong_order() -> None:
    result = update_order(rolling(["zk-0", "zk-1", "zk-2"]).events, ["zk-2", "zk-1", "zk-0"], OLD)
    assert "pods went in the order zk-0, zk-1, zk-2, expected zk-2, zk-1, zk-0" in result.problems


def test_update_order_catches_two_pods_down_at_once() -> None:
    events = rolling(["zk-2", "zk-1", "zk-0"], overlap=True).events
    result = update_order(events, ["zk-2", "zk-1", "zk-0"], OLD)
    assert any("zk-1 went" in p and "before the new zk-2 was Running and Ready" in p
               for p in result.problems)


def test_update_order_catches_a_pod_never_replaced() -> None:
    result = update_order(rolling(["zk-2", "zk-1"]).events, ["zk-2", "zk-1", "zk-0"], OLD)
    assert "zk-0 was not replaced (its old pod never went)" in result.problems


def test_fewest_ready_finds_the_low_point() -> None:
    events = rolling(["zk-2", "zk-1", "zk-0"], overlap=True).events
    lowest, at = fewest_ready(events, ["zk-0", "zk-1", "zk-2"], ["zk-0", "zk-1", "zk-2"])
    assert lowest == 1 and at.pod.name == "zk-1"


def manifest_template(path: Path = DEFAULT_MANIFEST) -> dict:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return next(d for d in docs if d["kind"] == "StatefulSet")["spec"]["template"]


def test_the_tutorials_anti_affinity_keeps_servers_apart() -> None:
    rule = hostname_anti_affinity(manifest_template())
    assert rule.ok, rule.detail


def test_a_selector_that_misses_the_pods_own_labels_guarantees_nothing() -> None:
    template = manifest_template()
    template["metadata"]["labels"] = {"app.kubernetes.io/name": "zk"}  # the current docs' gotcha
    rule = hostname_anti_affinity(template)
    assert not rule.ok and "does not match the pods' labels" in rule.detail


def test_no_or_only_preferred_anti_affinity_is_reported() -> None:
    template = manifest_template()
    del template["spec"]["affinity"]
    assert hostname_anti_affinity(template).detail.startswith(
        "the pod template has no required podAntiAffinity (none at all): nothing keeps two "
        "servers off one node")
    template["spec"]["affinity"] = {"podAntiAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1}]}}
    assert "only a preferred one" in hostname_anti_affinity(template).detail
    soft = manifest_template()
    anti = soft["spec"]["affinity"]["podAntiAffinity"]
    term = anti.pop("requiredDuringSchedulingIgnoredDuringExecution")[0]
    anti["preferredDuringSchedulingIgnoredDuringExecution"] = [
        {"weight": 1, "podAffinityTerm": term}]
    detail = hostname_anti_affinity(soft).detail
    assert "preferred (soft) anti-affinity lets two servers share a node" in detail
    assert "does not match" not in detail


def test_the_upstream_label_mismatch_is_named() -> None:
    template = manifest_template()
    template["metadata"]["labels"] = {"app.kubernetes.io/name": "zk"}
    detail = hostname_anti_affinity(template).detail
    assert "selects app in (zk) but the pods are labelled app.kubernetes.io/name: zk" in detail


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        (None, {"app": "zk"}, False),
        ({}, {"app": "zk"}, True),
        ({"matchLabels": {"app": "zk"}}, {"app": "zk", "x": "y"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["zk"]}]},
         {"app": "zk"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["zk"]}]},
         {"app": "zk"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"app": "zk"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"app": "zk"},
         True),
    ],
)
def test_selectors_are_evaluated_literally(selector: dict | None, labels: dict,
                                           matches: bool) -> None:
    assert selector_matches(selector, labels) is matches


def test_endpoint_state() -> None:
    endpoints = {"subsets": [{
        "addresses": [{"ip": "1", "targetRef": {"name": "zk-1"}}],
        "notReadyAddresses": [{"ip": "2", "targetRef": {"name": "zk-0"}}],
    }]}
    assert endpoint_state(endpoints, "zk-0") == "notReady"
    assert endpoint_state(endpoints, "zk-1") == "ready"
    assert endpoint_state(endpoints, "zk-2") == "absent"
    assert endpoint_state(None, "zk-0") == "absent"


@pytest.mark.parametrize(("quantity", "millis"),
                         [("0.3", 300), ("300m", 300), ("1", 1000), ("0.5", 500), (2, 2000),
                          ("250000u", 250), ("0.0001", 1)])
def test_cpu_millis(quantity: str | int, millis: int) -> None:
    assert cpu_millis(quantity) == millis


def test_cpu_millis_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="not a CPU quantity"):
        cpu_millis("lots")
