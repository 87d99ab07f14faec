"""Node lifecycle: the `node.kubernetes.io/unschedulable:NoSchedule` taint follows cordon.

`kubectl cordon` only flips `spec.unschedulable`; kube-controller-manager then adds the taint
(no value, no timeAdded) and removes it on uncordon, so `kubectl describe node` and anything
that reads taints sees what a real cluster shows. Simulated nodes never go NotReady, so the
NotReady/unreachable tainting of the real controller has nothing to do here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.controllers.base import Controller, Key
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def _is_unschedulable_taint(taint: dict) -> bool:
    return (taint.get("key") == UNSCHEDULABLE_TAINT["key"]
            and taint.get("effect") == UNSCHEDULABLE_TAINT["effect"])


def desired_taints(node: dict) -> list[dict]:
    """The node's taints with the unschedulable taint present iff `spec.unschedulable`."""
    spec = node.get("spec") or {}
    taints = list(spec.get("taints") or [])
    has = any(_is_unschedulable_taint(t) for t in taints)
    if spec.get("unschedulable") and not has:
        taints.append(dict(UNSCHEDULABLE_TAINT))
    elif not spec.get("unschedulable") and has:
        taints = [t for t in taints if not _is_unschedulable_taint(t)]
    return taints


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
            taints = desired_taints(node)
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
