"""Taint-based eviction: pods go when a NoExecute taint they tolerate only for a while stays.

pkg/controller/tainteviction (1.32, run as kube-controller-manager's
`taint-eviction-controller`): when a node's NoExecute taints change, or a pod is bound or
its tolerations change, each pod on the node is checked:

- no NoExecute taint: a scheduled deletion is cancelled (Normal `TaintManagerEviction`
  `Cancelling deletion of Pod ns/name`);
- a taint the pod does not tolerate: deleted now;
- all tolerated, some for `tolerationSeconds`: deleted after the smallest of them, counted
  from when the taint was first seen (a later pass never postpones it); tolerated forever:
  any scheduled deletion is cancelled.

A deletion emits `TaintManagerEviction` `Marking for deletion Pod ns/name`, adds the
`DisruptionTarget` condition (`DeletionByTaintManager`) and deletes the pod with default
options, i.e. gracefully. With no kubelet to confirm, such a pod stays `Terminating`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.controllers.base import Controller, Key
from localkube.controllers.scheduling import tolerates
from localkube.registry.podutil import set_condition, stamp
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

COMPONENT = "taint-eviction-controller"


def noexecute_taints(node: Mapping[str, Any] | None) -> list[dict]:
    return [t for t in ((node or {}).get("spec") or {}).get("taints") or []
            if t.get("effect") == "NoExecute"]


def eviction_delay(taints: list[dict], tolerations: list[dict]) -> float | None:
    """Seconds until eviction (0: now), or None when tolerated forever.

    `GetMatchingTolerations` + `getMinTolerationTime`: each taint takes the first
    toleration that tolerates it; the smallest `tolerationSeconds` among those wins, a
    non-positive one means now, none at all means never.
    """
    used = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates([t], taint)), None)
        if match is None:
            return 0.0
        used.append(match)
    seconds = [t["tolerationSeconds"] for t in used if t.get("tolerationSeconds") is not None]
    if not used:
        return 0.0
    if not seconds:
        return None
    return max(0.0, float(min(int(s) for s in seconds)))


class TaintEvictionController(Controller):
    name = "taint-eviction"
    watches = (R.NODES.key, R.PODS.key)

    def __init__(self, registry: Any) -> None:
        super().__init__(registry)
        #: (namespace, name) -> (created at, fire at) of each scheduled deletion
        self.scheduled: dict[tuple[str, str], tuple[float, float]] = {}

    def initial_keys(self) -> Iterable[Key]:
        return [("node", n["metadata"]["name"]) for n, _ in self.store.scan(R.NODES.key)]

    def keys_for(self, change: Change) -> Iterator[Key]:
        obj, old = change.obj, change.old
        meta = obj["metadata"]
        if change.resource == R.NODES.key:
            if change.type == DELETED or old is None or \
                    noexecute_taints(obj) != noexecute_taints(old):
                yield ("node", meta["name"])
            return
        spec, old_spec = obj.get("spec") or {}, (old or {}).get("spec") or {}
        if change.type == DELETED or old is None or \
                spec.get("nodeName") != old_spec.get("nodeName") or \
                spec.get("tolerations") != old_spec.get("tolerations"):
            yield ("pod", meta["namespace"], meta["name"])

    async def reconcile(self, key: Key) -> float | None:
        assert isinstance(key, tuple)
        now = self.registry.clock()
        if key[0] == "node":
            node = self.store.peek(R.NODES.key, "", key[1])
            taints = noexecute_taints(node)
            for pod, _ in self.store.scan(R.PODS.key):
                if (pod.get("spec") or {}).get("nodeName") == key[1]:
                    self._process(pod, taints, now)
        elif key[0] == "pod":
            current = self.store.peek(R.PODS.key, key[1], key[2])
            if current is None:
                self._cancel(key[1], key[2])
                return None
            node_name = (current.get("spec") or {}).get("nodeName")
            if node_name:
                taints = noexecute_taints(self.store.peek(R.NODES.key, "", node_name))
                if taints:
                    self._process(current, taints, now)
        elif key[0] == "fire":
            return self._fire(key[1], key[2], now)
        return None

    def _process(self, pod: Mapping[str, Any], taints: list[dict], now: float) -> None:
        """processPodOnNode."""
        meta = pod["metadata"]
        ref = (meta["namespace"], meta["name"])
        if not taints:
            self._cancel(*ref)
            return
        delay = eviction_delay(taints, list((pod.get("spec") or {}).get("tolerations") or []))
        if delay is None:
            self._cancel(*ref)
            return
        if delay == 0:
            self._cancel(*ref)
            self._schedule(ref, now, now)
            return
        existing = self.scheduled.get(ref)
        if existing is not None:
            created = existing[0]
            if created + delay < now + delay:
                return  # an earlier trigger stays
            self._cancel(*ref)
            now = created
        self._schedule(ref, now, now + delay)

    def _schedule(self, ref: tuple[str, str], created: float, fire_at: float) -> None:
        self.scheduled[ref] = (created, fire_at)
        self.queue.add_after(("fire", *ref), fire_at - self.registry.clock())

    def _cancel(self, namespace: str, name: str) -> None:
        if self.scheduled.pop((namespace, name), None) is not None:
            self._event(namespace, name, f"Cancelling deletion of Pod {namespace}/{name}")

    def _fire(self, namespace: str, name: str, now: float) -> float | None:
        entry = self.scheduled.get((namespace, name))
        if entry is None:
            return None
        if entry[1] > now:
            return entry[1] - now
        del self.scheduled[(namespace, name)]
        self._event(namespace, name, f"Marking for deletion Pod {namespace}/{name}")
        when = stamp(now)

        def mark(pod: dict) -> bool:
            conditions = pod.setdefault("status", {}).setdefault("conditions", [])
            return set_condition(conditions, {
                "type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                "reason": "DeletionByTaintManager",
                "message": "Taint manager: deleting due to NoExecute taint"}, when)

        try:
            if self.registry.mutate(R.PODS, namespace, name, mark, subresource="status"):
                self.registry.delete(R.PODS, namespace, name, {})
        except ApiError as exc:
            if exc.code != 404:
                raise
        return None

    def _event(self, namespace: str, name: str, message: str) -> None:
        ref = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": namespace}}
        self.registry.record_event(ref, "Normal", "TaintManagerEviction", message, COMPONENT)


def build(cluster: Cluster) -> list[Controller]:
    return [TaintEvictionController(cluster.registry)]
