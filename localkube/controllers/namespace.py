"""The namespace controller: empties a terminating namespace, then lets it go.

`kubectl delete namespace` only marks the namespace (phase Terminating, `kubernetes`
finalizer in `spec.finalizers`). This controller deletes everything in it (pods gracefully,
so containers get their grace period), reports progress in the same status conditions the
real deleter writes, and once nothing is left removes the finalizer via
`registry.finalize_namespace`, which deletes the namespace.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.controllers.base import Controller, Key
from localkube.registry.podutil import parse_stamp, set_condition, stamp
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

FINALIZER = "kubernetes"
RECHECK = 5.0  # safety net; removals of content requeue the namespace immediately

# Condition type -> (reason, message) when that aspect of the deletion is fine.
OK_CONDITIONS = {
    "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered",
                                          "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": ("ParsedGroupVersions",
                                                    "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": ("ContentDeleted", "All content successfully deleted, "
                                                          "may be waiting on finalization"),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentHasNoFinalizers",
                                     "All content-preserving finalizers finished"),
}


def _group_resource(res: R.Resource) -> str:
    """How the deleter names a resource in messages: `pods.` or `statefulsets.apps`."""
    return f"{res.plural}.{res.group}"


class NamespaceController(Controller):
    name = "namespace"

    def initial_keys(self) -> Iterable[Key]:
        return [n["metadata"]["name"] for n, _ in self.store.scan(R.NAMESPACES.key)
                if n["metadata"].get("deletionTimestamp")]

    def keys_for(self, change: Change) -> Iterator[Key]:
        if change.resource == R.NAMESPACES.key:
            if change.type != DELETED and change.obj["metadata"].get("deletionTimestamp"):
                yield change.obj["metadata"]["name"]
            return
        namespace = change.namespace
        if change.type == DELETED and namespace:
            ns = self.store.peek(R.NAMESPACES.key, "", namespace)
            if ns is not None and ns["metadata"].get("deletionTimestamp"):
                yield namespace

    async def reconcile(self, key: Key) -> float | None:
        name = str(key)
        ns = self.store.peek(R.NAMESPACES.key, "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or []):
            return None
        remaining: dict[str, int] = {}
        finalizers: Counter[str] = Counter()
        wait = 0.0
        now = self.registry.clock()
        for res in R.RESOURCES:
            if not res.namespaced:
                continue
            for obj, _ in list(self.store.scan(res.key, name)):
                if not obj["metadata"].get("deletionTimestamp"):
                    self._delete(res, name, obj["metadata"]["name"])
            left = [o for o, _ in self.store.scan(res.key, name)]
            if left:
                remaining[_group_resource(res)] = len(left)
            for obj in left:
                finalizers.update(obj["metadata"].get("finalizers") or [])
                due = parse_stamp(obj["metadata"].get("deletionTimestamp"))
                if due is not None:
                    wait = max(wait, due - now)
        self._report(name, remaining, finalizers)
        if remaining:
            return max(1.0, min(RECHECK, wait + 1.0))
        self.registry.finalize_namespace(name)
        return None

    def _delete(self, res: R.Resource, namespace: str, name: str) -> None:
        try:
            self.registry.delete(res, namespace, name)
        except ApiError as exc:
            if exc.code not in (404, 409):
                raise

    def _report(self, name: str, remaining: dict[str, int], finalizers: Counter[str]) -> None:
        """Write the five deletion conditions `kubectl describe ns` shows."""
        wanted = {kind: ("False", *ok) for kind, ok in OK_CONDITIONS.items()}
        if remaining:
            wanted["NamespaceContentRemaining"] = ("True", "SomeResourcesRemain",
                                                   "Some resources are remaining: " + ", ".join(
                f"{gr} has {n} resource instances" for gr, n in sorted(remaining.items())))
        if finalizers:
            wanted["NamespaceFinalizersRemaining"] = (
                "True", "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: " + ", ".join(
                    f"{f} in {n} resource instances" for f, n in sorted(finalizers.items())))
        now = stamp(self.registry.clock())

        def apply(ns: dict) -> bool:
            conditions = ns.setdefault("status", {}).setdefault("conditions", [])
            changed = False
            for kind, (status, reason, message) in wanted.items():
                changed |= set_condition(conditions, {"type": kind, "status": status,
                                                      "reason": reason, "message": message}, now)
            return changed

        self.registry.mutate(R.NAMESPACES, "", name, apply, subresource="status")


def build(cluster: Cluster) -> list[Controller]:
    return [NamespaceController(cluster.registry)]
