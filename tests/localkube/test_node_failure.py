"""A node that stops heartbeating, on the in-process control plane (no real containers).

Checks, with a 0.6 s grace period, a 0.1 s monitor period and 1 s default tolerations:
- after the grace period the stopped node's conditions are Unknown (`NodeStatusUnknown`,
  `Kubelet stopped posting node status.`), it carries `unreachable` NoSchedule and NoExecute
  (with timeAdded), its pods are Ready=False with a `NodeNotReady` event; others stay Ready;
- when the toleration expires the pod is deleted gracefully (DisruptionTarget
  `DeletionByTaintManager`) and stays Terminating: no second `zk-0` appears;
- `--force --grace-period=0` lets the StatefulSet controller create zk-0 again, on a
  node other than the stopped one;
- power on: conditions back to True, the condition taints gone;
- the pure rules: DefaultTolerationSeconds admission, eviction delay, zone states.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from localkube import resources as R
from localkube.cli import parse_go_duration
from localkube.cluster import Cluster, ClusterConfig
from localkube.controllers import build_controllers
from localkube.controllers.base import Key
from localkube.controllers.nodehealth import zone_state
from localkube.controllers.tainteviction import eviction_delay
from localkube.nodes import build as build_heartbeats
from localkube.registry.podutil import condition, is_ready, ns_name
from localkube.registry.strategies.pods import add_default_tolerations
from localkube.store import Change
from tests.localkube.drive import KubeletStub, events
from tests.localkube.kubesim import NS, Recorder, settle, wait_for
from tests.localkube.statefulset_env import manifest

GRACE = 0.6
PERIOD = 0.1
TOLERATION = 1
UNREACHABLE = "node.kubernetes.io/unreachable"


class PoweredKubeletStub(KubeletStub):
    """`KubeletStub` that goes silent on a switched-off node and resyncs when it boots."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster.registry)
        self.power = cluster.power
        self.power.listen(self)

    def keys_for(self, change: Change) -> Iterable[Key]:
        return super().keys_for(change)

    async def reconcile(self, key: Key) -> float | None:
        pod = self.store.peek(R.PODS.key, *ns_name(key))
        node = ((pod or {}).get("spec") or {}).get("nodeName")
        if node and not self.power.is_on(node):
            return None
        return await super().reconcile(key)

    async def power_off(self, node: str) -> None:
        return None

    async def power_on(self, node: str) -> None:
        for pod, _ in self.store.scan(R.PODS.key):
            if pod["spec"].get("nodeName") == node:
                self.queue.add((pod["metadata"]["namespace"], pod["metadata"]["name"]))


def run(tmp_path: Path, scenario: Any, eviction_rate: float = 0.1) -> None:
    async def main() -> None:
        config = ClusterConfig(state_dir=tmp_path, run_kubelets=False,
                               node_monitor_grace_period=GRACE, node_monitor_period=PERIOD,
                               node_eviction_rate=eviction_rate,
                               default_not_ready_toleration_seconds=TOLERATION,
                               default_unreachable_toleration_seconds=TOLERATION)
        cluster = Cluster(config)
        cluster.bootstrap()
        cluster.add(build_controllers(cluster))
        cluster.add(build_heartbeats(cluster))
        cluster.add([PoweredKubeletStub(cluster)])  # type: ignore[list-item]
        cluster.start()
        try:
            await scenario(cluster)
        finally:
            await cluster.stop()

    asyncio.run(main())


def node(c: Cluster, name: str) -> dict:
    return c.registry.get(R.NODES, "", name)


def pod(c: Cluster, name: str) -> dict | None:
    return c.registry.try_get(R.PODS, NS, name)


def taint_keys(c: Cluster, name: str) -> set[tuple[str, str]]:
    return {(t["key"], t["effect"]) for t in node(c, name)["spec"].get("taints") or []}


def test_lost_node_is_tainted_its_pod_evicted_and_replaced_after_force_delete(
        tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        c.registry.create(R.STATEFULSETS, NS, manifest())
        await wait_for(c.store, lambda: all(
            (p := pod(c, f"zk-{i}")) is not None and is_ready(p) for i in range(3)),
            timeout=10, what="3 ready pods")
        old = pod(c, "zk-0")
        assert old is not None
        lost = old["spec"]["nodeName"]
        assert {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": TOLERATION} in old["spec"]["tolerations"]

        assert await c.power.stop(lost) is True
        assert await c.power.stop(lost) is False  # idempotent
        await wait_for(c.store, lambda: (condition(node(c, lost), "Ready") or {}).get(
            "status") == "Unknown", timeout=5, what="node Unknown")
        for kind in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
            cond = condition(node(c, lost), kind)
            assert cond is not None
            assert (cond["status"], cond["reason"], cond["message"]) == (
                "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
        await wait_for(c.store, lambda: {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
                       <= taint_keys(c, lost), timeout=5, what="unreachable taints")
        assert all("timeAdded" in t for t in node(c, lost)["spec"]["taints"])
        await wait_for(c.store, lambda: not is_ready(pod(c, "zk-0") or {}), timeout=5,
                       what="zk-0 not ready")
        assert events(c.registry, "zk-0", "NodeNotReady")[0]["message"] == "Node is not ready"
        assert events(c.registry, lost, "NodeNotReady")[0]["message"] == \
            f"Node {lost} status is now: NodeNotReady"
        others = [n for n in c.config.node_names() if n != lost]
        assert all((condition(node(c, n), "Ready") or {}).get("status") == "True"
                   for n in others)

        await wait_for(c.store, lambda: (pod(c, "zk-0") or {})["metadata"].get(
            "deletionTimestamp"), timeout=5, what="zk-0 evicted")
        evicted = pod(c, "zk-0")
        assert evicted is not None and evicted["metadata"]["uid"] == old["metadata"]["uid"]
        target = condition(evicted, "DisruptionTarget")
        assert target is not None and target["reason"] == "DeletionByTaintManager"
        assert any(e["message"] == "Marking for deletion Pod default/zk-0"
                   for e in events(c.registry, "zk-0", "TaintManagerEviction"))
        # No kubelet confirms: it stays Terminating, and no second zk-0 is created.
        await settle(c)
        still = pod(c, "zk-0")
        assert still is not None and still["metadata"]["uid"] == old["metadata"]["uid"]

        c.registry.delete(R.PODS, NS, "zk-0", {"gracePeriodSeconds": 0})
        await wait_for(c.store, lambda: (p := pod(c, "zk-0")) is not None and
                       p["metadata"]["uid"] != old["metadata"]["uid"] and is_ready(p),
                       timeout=10, what="replacement zk-0 ready")
        replacement = pod(c, "zk-0")
        assert replacement is not None and replacement["spec"]["nodeName"] != lost

        assert await c.power.start(lost) is True
        await wait_for(c.store, lambda: (condition(node(c, lost), "Ready") or {}).get(
            "status") == "True" and not taint_keys(c, lost), timeout=5, what="node recovered")
        assert condition(node(c, lost), "Ready")["reason"] == "KubeletReady"  # type: ignore[index]
        lease = c.registry.get(R.LEASES, "kube-node-lease", lost)
        assert lease["spec"]["holderIdentity"] == lost

    run(tmp_path, scenario)


def test_disruption_modes_stop_noexecute_tainting(tmp_path: Path) -> None:
    """All nodes lost: no NoExecute taint at all. One back (3 of 4 unhealthy, a partial
    disruption of a small cluster): still none. Two back: the other two get it."""
    async def scenario(c: Cluster) -> None:
        names = c.config.node_names()
        rec = Recorder(c.store)
        for name in names:
            await c.power.stop(name)

        def unreachable(n: str) -> bool:
            return (UNREACHABLE, "NoSchedule") in taint_keys(c, n)

        def evicting(n: str) -> bool:
            return (UNREACHABLE, "NoExecute") in taint_keys(c, n)

        await wait_for(c.store, lambda: all(unreachable(n) for n in names), timeout=5,
                       what="all unreachable")
        await settle(c)
        assert not any(t.get("effect") == "NoExecute" for seen in rec.of(R.NODES)
                       for t in seen.obj["spec"].get("taints") or [])  # not even for a moment
        await c.power.start(names[0])
        await wait_for(c.store, lambda: not unreachable(names[0]), timeout=5, what="node-1 back")
        await settle(c)
        assert not any(evicting(n) for n in names)
        await c.power.start(names[1])
        await wait_for(c.store, lambda: evicting(names[2]) and evicting(names[3]), timeout=5,
                       what="NoExecute on the two lost nodes")
        for name in names[2:]:
            await c.power.start(name)
        await wait_for(c.store, lambda: not any(taint_keys(c, n) for n in names), timeout=5,
                       what="taints removed")

    run(tmp_path, scenario, eviction_rate=100.0)


def test_default_toleration_seconds_admission() -> None:
    spec: dict = {"tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                   "effect": "NoExecute"}]}
    add_default_tolerations(spec, 7, 9)
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 9}]
    wildcard: dict = {"tolerations": [{"operator": "Exists"}]}
    add_default_tolerations(wildcard, 7, 9)
    assert wildcard["tolerations"] == [{"operator": "Exists"}]
    no_schedule_only: dict = {"tolerations": [{"key": UNREACHABLE, "operator": "Exists",
                                               "effect": "NoSchedule"}]}
    add_default_tolerations(no_schedule_only, 7, 9)
    assert len(no_schedule_only["tolerations"]) == 3


def test_eviction_delay_and_zone_state() -> None:
    taint = {"key": UNREACHABLE, "effect": "NoExecute"}
    assert eviction_delay([taint], []) == 0.0
    assert eviction_delay([taint], [{"key": UNREACHABLE, "operator": "Exists",
                                     "effect": "NoExecute", "tolerationSeconds": 300}]) == 300
    assert eviction_delay([taint], [{"operator": "Exists"}]) is None
    assert eviction_delay([taint], [{"key": UNREACHABLE, "operator": "Exists",
                                     "tolerationSeconds": -5}]) == 0.0
    assert zone_state(["True", "True", "Unknown", "True"]) == "Normal"
    assert zone_state(["Unknown", "False", "Unknown", "True"]) == "PartialDisruption"
    assert zone_state(["Unknown"] * 4) == "FullDisruption"


def test_go_durations_for_the_controller_manager_flags() -> None:
    assert [parse_go_duration(t) for t in ("50s", "200ms", "1m30s", "2", "1.5s")] == [
        50.0, 0.2, 90.0, 2.0, 1.5]
    for bad in ("5x", "s", "", "1s 2s"):
        with pytest.raises(ValueError):
            parse_go_duration(bad)
