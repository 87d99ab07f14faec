"""The StatefulSet controller: which changes wake which set, and one reconcile per set.

Like kube-controller-manager's, it reacts to set and pod changes only: a pod change wakes the
set named by its controller reference, and an orphan pod wakes every set in its namespace
whose selector matches it (so it can be adopted).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.meta import controller_of
from localkube.apimachinery.selectors import LabelSelector
from localkube.controllers.base import Controller, Key
from localkube.controllers.statefulset import ownership
from localkube.controllers.statefulset.control import SetPass
from localkube.controllers.statefulset.identity import API_VERSION, KIND
from localkube.store import Change


def _selector(sts: dict) -> LabelSelector | None:
    try:
        return LabelSelector.from_api(sts["spec"].get("selector"))
    except (ApiError, ValueError):
        return None


class StatefulSetController(Controller):
    name = "statefulset-controller"
    watches = (R.STATEFULSETS.key, R.PODS.key)

    def keys_for(self, change: Change) -> Iterable[Key]:
        ns = change.namespace
        if change.resource == R.STATEFULSETS.key:
            return [(ns, change.obj["metadata"]["name"])]
        keys: set[Key] = set()
        for pod in (change.obj, change.old):
            if pod is None:
                continue
            ref = controller_of(pod)
            if ref is not None:
                if ref.get("kind") == KIND and ref.get("apiVersion") == API_VERSION:
                    keys.add((ns, ref.get("name")))
            elif change.type != "DELETED":
                keys.update(self._sets_matching(ns, pod))
        return keys

    def _sets_matching(self, ns: str, pod: dict) -> list[Key]:
        labels = pod["metadata"].get("labels") or {}
        out: list[Key] = []
        for sts, _ in self.store.scan(R.STATEFULSETS.key, ns):
            selector = _selector(sts)
            if selector is not None and selector.matches(labels):
                out.append((ns, sts["metadata"]["name"]))
        return out

    def initial_keys(self) -> Iterable[Key]:
        return [(s["metadata"].get("namespace", ""), s["metadata"]["name"])
                for s, _ in self.store.scan(R.STATEFULSETS.key)]

    async def reconcile(self, key: Key) -> float | None:
        ns, name = cast(tuple[str, str], key)
        sts = self.registry.try_get(R.STATEFULSETS, ns, name)
        if sts is None:
            return None
        selector = _selector(sts)
        if selector is None:
            return None  # invalid selectors are rejected by validation; nothing to do
        if not sts["metadata"].get("deletionTimestamp"):
            ownership.adopt_orphan_revisions(self.registry, sts, selector)
        pods = ownership.claim_pods(self.registry, sts, selector)
        revisions = ownership.list_revisions(self.registry, sts, selector)
        sync = SetPass(self.registry, sts, pods, revisions, self.registry.clock())
        sync.run()
        return sync.requeue_after()

