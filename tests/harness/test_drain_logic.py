"""kubectl drain's decisions and the harness's drain loop, without a cluster.

``classify`` against kubectl's filter rules; ``DrainResult`` formatting; ``cordon`` only
touching schedulable nodes; and ``drain`` driven by a fake API: a refused eviction is
retried at the given pace until the deadline, an accepted one is followed until the pod is
gone, and filter errors evict nothing.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest

from harness.kube.drain import cordon, drain, try_evict, uncordon
from harness.kube.transport import ApiError
from harness.model.drain import (
    DAEMONSET_FATAL,
    DAEMONSET_WARNING,
    LOCAL_STORAGE_FATAL,
    LOCAL_STORAGE_WARNING,
    PDB_REFUSAL,
    UNMANAGED_FATAL,
    UNMANAGED_WARNING,
    DrainOptions,
    DrainResult,
    EvictionAnswer,
    PodDrain,
    Verdict,
    classify,
    grouped,
)

CAUSE = "The disruption budget zk-pdb needs 2 healthy pods and has 2 currently"


def pod(name: str, *, owner: str | None = "StatefulSet", phase: str = "Running",
        empty_dir: bool = False, mirror: bool = False, node: str = "node-3") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "owner", "controller": True}]
    if mirror:
        meta["annotations"] = {"kubernetes.io/config.mirror": "x"}
    volumes = [{"name": "scratch", "emptyDir": {}}] if empty_dir else []
    return {"metadata": meta, "spec": {"nodeName": node, "volumes": volumes},
            "status": {"phase": phase}}


FLAGS = DrainOptions(ignore_daemonsets=True, delete_emptydir_data=True)
NO_FLAGS = DrainOptions(ignore_daemonsets=False, delete_emptydir_data=False)


@pytest.mark.parametrize(
    ("the_pod", "options", "expected"),
    [
        (pod("zk-0"), FLAGS, Verdict(True, "okay")),
        (pod("ds", owner="DaemonSet"), FLAGS, Verdict(False, "warning", DAEMONSET_WARNING)),
        (pod("ds", owner="DaemonSet"), NO_FLAGS, Verdict(False, "error", DAEMONSET_FATAL)),
        (pod("ds", owner="DaemonSet", phase="Failed"), NO_FLAGS, Verdict(True, "okay")),
        (pod("static", owner=None, mirror=True), NO_FLAGS, Verdict(False, "skip")),
        (pod("cache", empty_dir=True), FLAGS, Verdict(True, "warning", LOCAL_STORAGE_WARNING)),
        (pod("cache", empty_dir=True), NO_FLAGS, Verdict(False, "error", LOCAL_STORAGE_FATAL)),
        (pod("cache", empty_dir=True, phase="Succeeded"), NO_FLAGS, Verdict(True, "okay")),
        (pod("bare", owner=None), FLAGS, Verdict(False, "error", UNMANAGED_FATAL)),
        (pod("bare", owner=None), DrainOptions(force=True),
         Verdict(True, "warning", UNMANAGED_WARNING)),
        (pod("bare", owner=None, phase="Succeeded"), FLAGS, Verdict(True, "okay")),
    ],
)
def test_kubectl_filters(the_pod: dict, options: DrainOptions, expected: Verdict) -> None:
    assert classify(the_pod, options) == expected


def test_the_first_refusing_filter_wins_over_later_ones() -> None:
    both = pod("ds", owner="DaemonSet", empty_dir=True)
    assert classify(both, NO_FLAGS).message == DAEMONSET_FATAL


def test_a_daemonset_pod_whose_daemonset_is_gone_needs_force() -> None:
    orphan = pod("ds", owner="DaemonSet")
    assert classify(orphan, FLAGS, lambda ns, name: False).kind == "error"
    forced = classify(orphan, DrainOptions(force=True), lambda ns, name: False)
    assert forced.delete and 'daemonsets.apps "owner" not found' in forced.message


def test_messages_are_grouped_like_kubectl() -> None:
    lines = grouped([("m1", "default/a"), ("m2", "kube-system/b"), ("m1", "default/c")])
    assert lines == ["m1: default/a, default/c", "m2: kube-system/b"]


def refused(name: str) -> EvictionAnswer:
    return EvictionAnswer(f"default/{name}", 429, PDB_REFUSAL, (CAUSE,))


def test_result_says_what_was_evicted_refused_and_why() -> None:
    zk0 = PodDrain("default", "zk-0", "u0", [EvictionAnswer("default/zk-0", 201)], 0.1, 0.6)
    zk2 = PodDrain("default", "zk-2", "u2", [refused("zk-2"), refused("zk-2")])
    result = DrainResult("node-3", True, (zk0, zk2), (), ("ignoring DaemonSet-managed "
                                                          "Pods: kube-system/proxy",), (), 11.0)
    assert result.evicted == ["zk-0"] and result.refused == ["zk-2"]
    assert result.refusal_messages == {"zk-2": f"{PDB_REFUSAL} ({CAUSE})"}
    assert not result.ok
    text = result.describe().splitlines()
    assert text[0] == "node/node-3 cordoned"
    assert text[1] == "Warning: ignoring DaemonSet-managed Pods: kube-system/proxy"
    assert text[2] == "pod/zk-0 evicted (gone 0.6s after the start)"
    assert text[3] == (f'error when evicting pods/"zk-2" -n "default": {PDB_REFUSAL} ({CAUSE}) '
                       "(refused 2 times)")
    assert text[-1] == 'unable to drain node "node-3" in 11.0s, pending pods: zk-2'


def test_a_clean_drain_reads_like_kubectl() -> None:
    zk0 = PodDrain("default", "zk-0", "u0", [EvictionAnswer("default/zk-0", 201)], 0.1, 0.5)
    result = DrainResult("node-1", False, (zk0,), (), (), (), 0.5)
    assert result.ok
    assert result.describe().splitlines()[0] == "node/node-1 already cordoned"
    assert result.describe().splitlines()[-1] == "node/node-1 drained"


def test_eviction_answers_describe_themselves() -> None:
    assert EvictionAnswer("default/zk-0", 201).describe() == "eviction of default/zk-0 allowed"
    text = refused("zk-2").describe()
    assert text == f"eviction of default/zk-2 answered 429: {PDB_REFUSAL} ({CAUSE})"


# -- against a fake API ----------------------------------------------------------------------------


class Response:
    def __init__(self, lines: list[dict]) -> None:
        self.chunks = [json.dumps(x).encode() + b"\n" for x in lines]

    def read1(self, _n: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    @property
    def closed(self) -> bool:
        return not self.chunks

    def close(self) -> None:
        self.chunks = []

    def release_conn(self) -> None:
        pass


class FakeApi:
    """Nodes, the pods of one node, and an eviction policy per pod name."""

    server = "https://fake"

    def __init__(self, pods: list[dict], refuse: set[str], cordoned: bool = False) -> None:
        self.pods = {p["metadata"]["name"]: p for p in pods}
        self.refuse = refuse
        self.cordoned = cordoned
        self.calls: list[tuple[str, str, float]] = []

    @property
    def transport(self) -> FakeApi:
        return self

    def node(self, name: str) -> dict:
        return {"metadata": {"name": name, "resourceVersion": "5"},
                "spec": {"unschedulable": True} if self.cordoned else {}}

    def patch(self, _kind: Any, name: str, patch: dict, *_: Any) -> dict:
        self.calls.append(("PATCH", name, time.monotonic()))
        self.cordoned = bool(patch["spec"]["unschedulable"])
        return self.node(name)

    def request(self, method: str, path: str, *, query: Any = (), body: Any = None,
                **_: Any) -> dict:
        self.calls.append((method, path, time.monotonic()))
        if path == "/api/v1/pods":
            return {"items": list(self.pods.values())}
        if path.endswith("/eviction"):
            name = path.split("/")[-2]
            if name in self.refuse:
                raise ApiError(method, path, 429, "TooManyRequests", PDB_REFUSAL,
                               {"causes": [{"reason": "DisruptionBudget", "message": CAUSE}]})
            self.pods.pop(name, None)
            return {"kind": "Status", "status": "Success", "code": 201}
        if "/daemonsets/" in path:
            return {"metadata": {"name": path.rsplit("/", 1)[-1]}}
        if method == "GET" and "/pods" in path:  # the wait's list by name
            wanted = dict(query)["fieldSelector"].split("=", 1)[1]
            return {"items": [p for n, p in self.pods.items() if n == wanted],
                    "metadata": {"resourceVersion": "9"}}
        raise AssertionError(f"unexpected {method} {path}")

    def open(self, *_: Any, **__: Any) -> Response:
        return Response([])


def test_drain_retries_a_refusal_until_its_deadline_and_follows_the_evicted_pod() -> None:
    api = FakeApi([pod("zk-0"), pod("zk-2"), pod("proxy", owner="DaemonSet")], refuse={"zk-2"})
    options = DrainOptions(retry_every=0.2)
    result = drain(api, "node-3", timeout=1.0, options=options)  # type: ignore[arg-type]
    assert result.cordoned_by_us and api.cordoned
    assert result.evicted == ["zk-0"] and result.refused == ["zk-2"]
    assert result.warnings == ("ignoring DaemonSet-managed Pods: default/proxy",)
    [zk2] = [p for p in result.pods if p.name == "zk-2"]
    assert 3 <= len(zk2.refusals) <= 6  # every 0.2 s for 1 s, fewer if the machine stalls
    times = [t for m, p, t in api.calls if p.endswith("zk-2/eviction")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps[:-1]) >= 0.15  # paced; the last pause is cut short by the deadline
    assert 0.9 <= result.duration < 3.0


def test_drain_with_filter_errors_evicts_nothing() -> None:
    api = FakeApi([pod("zk-0"), pod("bare", owner=None)], refuse=set())
    result = drain(api, "node-3", timeout=5.0)  # type: ignore[arg-type]
    assert result.errors == (f"{UNMANAGED_FATAL}: default/bare",)
    assert not any(p.endswith("/eviction") for _, p, _ in api.calls)
    assert not result.ok


def test_drain_of_a_cordoned_node_says_it_did_not_cordon_it() -> None:
    api = FakeApi([pod("zk-2")], refuse=set(), cordoned=True)
    result = drain(api, "node-3", timeout=5.0)  # type: ignore[arg-type]
    assert result.ok and not result.cordoned_by_us
    assert not any(m == "PATCH" for m, _, _ in api.calls)


def test_cordon_runs_the_journal_hook_first_and_only_when_it_cordons() -> None:
    api = FakeApi([], refuse=set())
    order: list[str] = []
    assert cordon(api, "n", before=lambda node: order.append(f"journal {node}")) is True  # type: ignore[arg-type]
    order.append("patched" if api.cordoned else "not patched")
    assert order == ["journal n", "patched"]
    assert cordon(api, "n", before=lambda node: order.append("again")) is False  # type: ignore[arg-type]
    assert "again" not in order
    assert uncordon(api, "n") is True and uncordon(api, "n") is False  # type: ignore[arg-type]


def test_try_evict_turns_a_refusal_into_an_answer() -> None:
    api = FakeApi([pod("zk-2")], refuse={"zk-2"})
    answer = try_evict(api, "default", "zk-2")  # type: ignore[arg-type]
    assert answer.refused and answer.causes == (CAUSE,) and answer.message == PDB_REFUSAL
