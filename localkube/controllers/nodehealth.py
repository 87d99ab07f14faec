"""Node health: what kube-controller-manager's node lifecycle controller does to a lost node.

From pkg/controller/nodelifecycle (1.32), reproduced for what a drill can observe:

- a node's health signal is its Lease renewal or its Ready condition's heartbeat; when
  neither moved for `--node-monitor-grace-period` (50 s), Ready, MemoryPressure,
  DiskPressure and PIDPressure become `Unknown`, reason `NodeStatusUnknown`, message
  `Kubelet stopped posting node status.` (the heartbeat time is left alone);
- on the Ready → not-Ready transition: event `NodeNotReady` on the node, and every pod on it
  gets its `Ready` condition set to False (MarkPodsNotReady: status and transition time
  only, reason and message untouched, Warning event `NodeNotReady` `Node is not ready`);
  a pod bound later to a not-ready node gets the same;
- the NoExecute taint follows the Ready condition already observed: `unreachable` for
  Unknown, `not-ready` for False (mutually exclusive, with `timeAdded`), none for True.
  Tainting is rate limited per zone (`--node-eviction-rate`, 0.1 node/s); in a partial
  disruption (more than 2 and at least 55 % of nodes unhealthy, small cluster) no new
  node is tainted; when every node is unhealthy (full disruption) the NoExecute taints
  are removed and nothing is tainted. The NoSchedule twins live in `nodelifecycle.py`.

Like the real controller it polls, every `--node-monitor-period` (5 s): a renewal counts
from the pass that notices it, a node turns Unknown on the first pass after the grace
period, and its NoExecute taint comes on the pass after that (so, with the defaults, a lost
node is NotReady 50-60 s and tainted 55-65 s after its last heartbeat).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.controllers.base import Controller, Key
from localkube.nodes.heartbeat import LEASE_NAMESPACE
from localkube.registry.podutil import condition, stamp
from localkube.store import DELETED, Change

log = logging.getLogger("localkube.controllers")

if TYPE_CHECKING:
    from localkube.cluster import Cluster
    from localkube.registry import Registry

COMPONENT = "node-controller"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
MONITORED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
UNHEALTHY_ZONE_THRESHOLD = 0.55
LARGE_CLUSTER_THRESHOLD = 50


@dataclass
class Health:
    """What the controller last saw of a node (nodeHealthData)."""

    probe: float
    heartbeat: str | None
    lease: str | None = None


def noexecute_taint_for(ready_status: str | None) -> str | None:
    """The NoExecute taint key the Ready condition calls for, if any."""
    if ready_status == "False":
        return NOT_READY
    if ready_status == "True":
        return None
    return UNREACHABLE


def zone_state(ready_statuses: list[str | None]) -> str:
    """`ComputeZoneState` for the single zone localkube's nodes are in."""
    unhealthy = sum(1 for s in ready_statuses if s != "True")
    if ready_statuses and unhealthy == len(ready_statuses):
        return "FullDisruption"
    if unhealthy > 2 and unhealthy / len(ready_statuses) >= UNHEALTHY_ZONE_THRESHOLD:
        return "PartialDisruption"
    return "Normal"


class NodeHealthController(Controller):
    name = "node-health"
    watches = (R.PODS.key,)

    def __init__(self, registry: Registry, grace_period: float = 50.0,
                 eviction_rate: float = 0.1, monitor_period: float = 5.0) -> None:
        super().__init__(registry)
        self.grace = grace_period
        self.eviction_rate = eviction_rate
        self.period = monitor_period
        self.health: dict[str, Health] = {}
        self._next_taint = 0.0
        self._zone_state = "Initial"

    # -- keys ----------------------------------------------------------------------------
    def initial_keys(self) -> Iterable[Key]:
        return [("monitor",)]

    def keys_for(self, change: Change) -> Iterator[Key]:
        if change.type == DELETED:  # podUpdated: only a pod newly bound to a node
            return
        node = (change.obj.get("spec") or {}).get("nodeName")
        old = ((change.old or {}).get("spec") or {}).get("nodeName")
        if node and node != old:
            meta = change.obj["metadata"]
            yield ("pod", meta["namespace"], meta["name"])

    async def reconcile(self, key: Key) -> float | None:
        assert isinstance(key, tuple)
        if key[0] == "pod":
            self._process_pod(key[1], key[2])
            return None
        if key[0] == "taint":  # a node the zone's rate limiter held back
            node = self.store.get(R.NODES.key, "", key[1])
            if node is not None and self._zone_state == "Normal":
                observed = (condition(node, "Ready") or {}).get("status") or "Unknown"
                self._taint_for_eviction(node, observed, self.registry.clock())
            return None
        self._monitor(self.registry.clock())
        return self.period

    # -- the periodic pass ---------------------------------------------------------------
    def _monitor(self, now: float) -> None:
        """monitorNodeHealth: every node's health, then the zone's disruption state, then
        the NoExecute taint each node's previously observed Ready condition calls for."""
        passes = [self._update_health(n, now) for n, _ in self.store.scan(R.NODES.key)]
        names = {node["metadata"]["name"] for _, node in passes}
        for gone in set(self.health) - names:
            del self.health[gone]
        state = zone_state([(condition(node, "Ready") or {}).get("status")
                            for _, node in passes])
        if state == "FullDisruption":
            if self._zone_state != "FullDisruption":
                log.info("all nodes are not-Ready: entering master disruption mode")
                for _, node in passes:
                    self._swap(node["metadata"]["name"], None)
            self._zone_state = state
            return
        if self._zone_state == "FullDisruption":  # leaving it: a fresh grace period for all
            log.info("some nodes are Ready: exiting master disruption mode")
            for health in self.health.values():
                health.probe = now
        self._zone_state = state
        for observed, node in passes:
            self._taint_for_eviction(node, observed, now)

    def _update_health(self, node: dict, now: float) -> tuple[str, dict]:
        """tryUpdateNodeHealth and the not-ready transition: (Ready status before this
        pass, the node after it)."""
        name = node["metadata"]["name"]
        observed = (condition(node, "Ready") or {}).get("status") or "Unknown"
        health = self._observe(node, now)
        if now > health.probe + self.grace:
            node = self._mark_unknown(node, now) or node
        current = (condition(node, "Ready") or {}).get("status") or "Unknown"
        if current != "True" and observed == "True":
            self.registry.record_event(node, "Normal", "NodeNotReady",
                                       f"Node {name} status is now: NodeNotReady", COMPONENT)
            self._mark_pods_not_ready(name)
        return observed, node

    def _observe(self, node: dict, now: float) -> Health:
        """Update the node's probe time from its status heartbeat and its Lease."""
        name = node["metadata"]["name"]
        heartbeat = (condition(node, "Ready") or {}).get("lastHeartbeatTime")
        health = self.health.get(name)
        if health is None:
            health = self.health[name] = Health(now, heartbeat)
        elif heartbeat != health.heartbeat:
            health.probe, health.heartbeat = now, heartbeat
        lease = self.store.peek(R.LEASES.key, LEASE_NAMESPACE, name)
        renewed = ((lease or {}).get("spec") or {}).get("renewTime")
        if renewed and renewed != health.lease:
            health.probe, health.lease = now, renewed
        return health

    def _mark_unknown(self, node: dict, now: float) -> dict | None:
        when = stamp(now)

        def unknown(obj: dict) -> bool:
            conditions = obj.setdefault("status", {}).setdefault("conditions", [])
            changed = False
            for kind in MONITORED_CONDITIONS:
                cond = next((c for c in conditions if c.get("type") == kind), None)
                if cond is None:
                    conditions.append({
                        "type": kind, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                        "message": "Kubelet never posted node status.",
                        "lastHeartbeatTime": obj["metadata"].get("creationTimestamp"),
                        "lastTransitionTime": when})
                    changed = True
                elif cond.get("status") != "Unknown":
                    cond.update(status="Unknown", reason="NodeStatusUnknown",
                                message="Kubelet stopped posting node status.",
                                lastTransitionTime=when)
                    changed = True
            return changed

        return self.registry.mutate(R.NODES, "", node["metadata"]["name"], unknown,
                                    subresource="status")

    # -- pods ----------------------------------------------------------------------------
    def _pods_on(self, node: str) -> list[dict]:
        return [p for p, _ in self.store.scan(R.PODS.key)
                if (p.get("spec") or {}).get("nodeName") == node]

    def _mark_pods_not_ready(self, node: str) -> None:
        for pod in self._pods_on(node):
            mark_pod_not_ready(self.registry, pod)

    def _process_pod(self, namespace: str, name: str) -> None:
        pod = self.store.peek(R.PODS.key, namespace, name)
        if pod is None:
            return
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = self.store.peek(R.NODES.key, "", node_name) if node_name else None
        if node is None or node_name not in self.health:
            return
        ready = condition(node, "Ready")
        if ready is not None and ready.get("status") != "True":
            mark_pod_not_ready(self.registry, pod)

    # -- NoExecute taints ----------------------------------------------------------------
    def _taint_for_eviction(self, node: dict, observed: str, now: float) -> None:
        """processTaintBaseEviction and the zone's rate-limited NoExecute tainter."""
        name = node["metadata"]["name"]
        wanted = noexecute_taint_for(observed)
        present = {t.get("key") for t in (node.get("spec") or {}).get("taints") or []
                   if t.get("effect") == "NoExecute"} & {NOT_READY, UNREACHABLE}
        if wanted is None:
            if present:
                self._swap(name, None)  # markNodeAsReachable
            return
        if present == {wanted}:
            return
        if present:  # the opposite taint: swapped at once, not rate limited
            self._swap(name, wanted)
            return
        if self.eviction_rate_in(self._zone_state) <= 0:
            return
        if now < self._next_taint:
            self.queue.add_after(("taint", name), self._next_taint - now)
            return
        self._next_taint = now + 1.0 / self.eviction_rate_in(self._zone_state)
        self._swap(name, wanted)

    def eviction_rate_in(self, state: str) -> float:
        """ReducedQPSFunc: a small cluster in partial disruption taints nothing."""
        if state == "PartialDisruption":
            size = sum(1 for _ in self.store.scan(R.NODES.key))
            return 0.01 if size > LARGE_CLUSTER_THRESHOLD else 0.0
        return self.eviction_rate

    def _swap(self, node: str, key: str | None) -> None:
        """SwapNodeControllerTaint: `key`:NoExecute (with timeAdded) and no other of the
        two; None removes both."""
        when = stamp(self.registry.clock())

        def swap(obj: dict) -> bool:
            spec = obj.setdefault("spec", {})
            taints = list(spec.get("taints") or [])
            kept = [t for t in taints if not (t.get("effect") == "NoExecute"
                                              and t.get("key") in (NOT_READY, UNREACHABLE)
                                              and t.get("key") != key)]
            if key is not None and not any(t.get("key") == key and t.get("effect") ==
                                           "NoExecute" for t in kept):
                kept.append({"key": key, "effect": "NoExecute", "timeAdded": when})
            if kept == taints:
                return False
            if kept:
                spec["taints"] = kept
            else:
                spec.pop("taints", None)
            return True

        try:
            self.registry.mutate(R.NODES, "", node, swap)
        except ApiError as exc:  # the next pass tries again
            log.warning("cannot change the NoExecute taints of node %s: %s", node, exc)


def mark_pod_not_ready(registry: Registry, pod: dict) -> None:
    """MarkPodsNotReady for one pod: its Ready condition to False, nothing else."""
    ready = condition(pod, "Ready")
    if ready is None or ready.get("status") == "False":
        return
    meta = pod["metadata"]
    when = stamp(registry.clock())

    def not_ready(obj: dict) -> bool:
        if obj["metadata"].get("uid") != meta.get("uid"):
            return False
        cond = condition(obj, "Ready")
        if cond is None or cond.get("status") == "False":
            return False
        cond["status"] = "False"
        cond["lastTransitionTime"] = when
        return True

    try:
        updated = registry.mutate(R.PODS, meta["namespace"], meta["name"], not_ready,
                                  subresource="status")
    except ApiError:
        return
    if updated is not None:
        registry.record_event(updated, "Warning", "NodeNotReady", "Node is not ready", COMPONENT)


def build(cluster: Cluster) -> list[Controller]:
    config = cluster.config
    return [NodeHealthController(cluster.registry, config.node_monitor_grace_period,
                                 config.node_eviction_rate, config.node_monitor_period)]
