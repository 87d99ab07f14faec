"""Node lifecycle: the NoSchedule taints that follow cordon and the node's conditions.

`kubectl cordon` only flips `spec.unschedulable`; kube-controller-manager then adds the
`node.kubernetes.io/unschedulable:NoSchedule` taint (no value, no timeAdded) and removes it
on uncordon. Likewise (doNoScheduleTaintingPass) a node whose Ready condition is False gets
`node.kubernetes.io/not-ready:NoSchedule`, Unknown `node.kubernetes.io/unreachable:NoSchedule`,
and a pressure condition that is True its own taint, each with `timeAdded`; they go away when
the condition recovers, so the scheduler stops placing pods on a lost node. The NoExecute
taints that evict pods are `nodehealth.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.controllers.base import Controller, Key
from localkube.registry.podutil import stamp
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
#: nodeConditionToTaintKeyStatusMap: (condition type, status) -> taint key
CONDITION_TAINTS = {
    ("Ready", "False"): "node.kubernetes.io/not-ready",
    ("Ready", "Unknown"): "node.kubernetes.io/unreachable",
    ("MemoryPressure", "True"): "node.kubernetes.io/memory-pressure",
    ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
    ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
    ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure",
}
MANAGED_KEYS = {UNSCHEDULABLE_TAINT["key"], *CONDITION_TAINTS.values()}


def _managed(taint: dict) -> bool:
    return taint.get("effect") == "NoSchedule" and taint.get("key") in MANAGED_KEYS


def desired_taints(node: dict, now: float | None = None) -> list[dict]:
    """The node's taints with exactly the NoSchedule taints its spec and conditions call for
    (existing ones kept as they are, new ones appended)."""
    spec = node.get("spec") or {}
    taints = list(spec.get("taints") or [])
    wanted = [CONDITION_TAINTS[(c.get("type"), c.get("status"))]
              for c in (node.get("status") or {}).get("conditions") or []
              if (c.get("type"), c.get("status")) in CONDITION_TAINTS]
    if spec.get("unschedulable"):
        wanted.append(UNSCHEDULABLE_TAINT["key"])
    kept = [t for t in taints if not _managed(t) or t.get("key") in wanted]
    have = {t.get("key") for t in kept if _managed(t)}
    for key in wanted:
        if key in have:
            continue
        if key == UNSCHEDULABLE_TAINT["key"]:
            kept.append(dict(UNSCHEDULABLE_TAINT))
        else:
            kept.append({"key": key, "effect": "NoSchedule",
                         **({"timeAdded": stamp(now)} if now is not None else {})})
    return kept


class NodeLifecycleController(Controller):
    name = "node-lifecycle"
    watches = (R.NODES.key,)

    def initial_keys(self) -> Iterable[Key]:
        return [n["metadata"]["name"] for n, _ in self.store.scan(R.NODES.key)]

    def keys_for(self, change: Change) -> Iterator[Key]:
        if change.type != DELETED:
            yield change.obj["metadata"]["name"]

    async def reconcile(self, key: Key) -> float | None:
        def sync(node: dict) -> bool:
            taints = desired_taints(node, self.registry.clock())
            if taints == list((node.get("spec") or {}).get("taints") or []):
                return False
            spec = node.setdefault("spec", {})
            if taints:
                spec["taints"] = taints
            else:
                spec.pop("taints", None)
            return True

        self.registry.mutate(R.NODES, "", str(key), sync)
        return None


def build(cluster: Cluster) -> list[Controller]:
    return [NodeLifecycleController(cluster.registry)]
