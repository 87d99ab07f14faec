"""kube-scheduler's default profile, as far as kubectl and the drills can observe it.

Pods with no node, `schedulerName: default-scheduler` and no deletionTimestamp are bound via
the binding subresource to the best feasible node, with a `Scheduled` event. A pod that fits
nowhere gets `PodScheduled=False/Unschedulable` carrying the FitError text and a
`FailedScheduling` event, then waits in back-off (1 s doubling to 10 s) and is retried when
something that could make it fit changes: a node, a bound pod, a claim. That retry is how
zk-1 lands right after `kubectl uncordon`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.controllers.base import Controller, Key
from localkube.controllers.scheduling import (
    NodeInfo,
    Verdict,
    affinity_scores,
    affinity_state,
    filter_node,
    fit_error,
    pick,
    snapshot,
    volume_prefilter,
)
from localkube.registry import Registry
from localkube.registry.podutil import (
    POD_REF,
    is_terminal,
    labels_of,
    ns_name,
    set_condition,
    stamp,
)
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

SCHEDULER_NAME = "default-scheduler"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0


def wants_scheduling(pod: Mapping[str, Any]) -> bool:
    """Unbound, ours, and not on its way out."""
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and (spec.get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME
        and not pod["metadata"].get("deletionTimestamp")
        and not is_terminal(pod)
    )


def _without_status(pod: Mapping[str, Any]) -> dict:
    """What `isPodUpdated` compares: a status-only write does not requeue the pod."""
    meta = {k: v for k, v in pod["metadata"].items() if k not in ("resourceVersion", "generation")}
    return {"metadata": meta, "spec": pod.get("spec")}


def _node_view(node: Mapping[str, Any] | None) -> tuple:
    """The parts of a node a filter reads (heartbeats alone must not trigger retries)."""
    if node is None:
        return ()
    return (labels_of(node), node.get("spec"), (node.get("status") or {}).get("allocatable"))


class Scheduler(Controller):
    name = "scheduler"
    watches = (R.PODS.key, R.NODES.key, R.PVCS.key, R.STORAGECLASSES.key)

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        self._attempts: dict[Key, int] = {}
        self._retry_at: dict[Key, float] = {}

    # -- what to retry ---------------------------------------------------------------------
    def initial_keys(self) -> Iterable[Key]:
        return self._pending()

    def _pending(self, namespace: str | None = None) -> list[Key]:
        return [
            (p["metadata"]["namespace"], p["metadata"]["name"])
            for p, _ in self.store.scan(R.PODS.key, namespace)
            if wants_scheduling(p)
        ]

    def _enqueue(self, keys: Iterable[Key]) -> None:
        """Queue keys, but never before their back-off expires (the backoffQ)."""
        now = time.monotonic()
        for key in keys:
            self.queue.add_after(key, self._retry_at.get(key, now) - now)

    def keys_for(self, change: Change) -> Iterator[Key]:
        # Enqueues by itself (through `_enqueue`) so every retry respects the pod's back-off.
        if change.resource == R.PODS.key:
            self._on_pod(change)
        elif change.resource == R.NODES.key:
            if change.type != DELETED and _node_view(change.obj) != _node_view(change.old):
                self._enqueue(self._pending())
        elif change.resource == R.PVCS.key:
            self._enqueue(self._pending(change.namespace))
        else:
            self._enqueue(self._pending())
        return iter(())

    def _on_pod(self, change: Change) -> None:
        pod, old = change.obj, change.old
        key = (change.namespace, pod["metadata"]["name"])
        changed = old is None or _without_status(old) != _without_status(pod)
        if change.type == DELETED:
            self._forget(key)
        elif wants_scheduling(pod) and changed:
            self._enqueue([key])
        was_bound = old is not None and bool((old.get("spec") or {}).get("nodeName"))
        is_bound = bool((pod.get("spec") or {}).get("nodeName"))
        frees = was_bound and (
            change.type == DELETED
            or (is_terminal(pod) and not is_terminal(old or {}))
            or labels_of(pod) != labels_of(old or {})
        )
        if frees or (is_bound and not was_bound):
            self._enqueue(self._pending())

    def _forget(self, key: Key) -> None:
        self._attempts.pop(key, None)
        self._retry_at.pop(key, None)

    # -- one scheduling cycle --------------------------------------------------------------
    async def reconcile(self, key: Key) -> float | None:
        namespace, name = ns_name(key)
        pod = self.store.peek(R.PODS.key, namespace, name)
        if pod is None or not wants_scheduling(pod):
            self._forget(key)
            return None
        infos = snapshot((n for n, _ in self.store.scan(R.NODES.key)),
                         (p for p, _ in self.store.scan(R.PODS.key)))
        claims = {c["metadata"]["name"]: c for c, _ in self.store.scan(R.PVCS.key, namespace)}
        classes = {c["metadata"]["name"]: c for c, _ in self.store.scan(R.STORAGECLASSES.key)}
        prefilter, delayed = volume_prefilter(pod, claims, classes)
        verdicts: dict[str, Verdict] = {}
        feasible: list[NodeInfo] = []
        if prefilter is None and infos:
            ns_labels = {n["metadata"]["name"]: labels_of(n)
                         for n, _ in self.store.scan(R.NAMESPACES.key)}
            state = affinity_state(pod, infos, ns_labels)
            for info in infos.values():
                verdict = filter_node(pod, info, state)
                if verdict is None:
                    feasible.append(info)
                else:
                    verdicts[info.name] = verdict
        if feasible:
            scores = affinity_scores(pod, feasible, infos, ns_labels) if len(feasible) > 1 else {}
            self._bind(key, pick(pod, feasible, scores).name, delayed)
            return None
        return self._unschedulable(key, pod, fit_error(len(infos), verdicts, prefilter, pod))

    def _bind(self, key: Key, node: str, delayed: list[str]) -> None:
        namespace, name = ns_name(key)
        for claim in delayed:  # VolumeBinding PreBind: let the provisioner pick this node
            self.registry.mutate(R.PVCS, namespace, claim, _annotate(SELECTED_NODE, node))
        try:
            bound = self.registry.bind_pod(namespace, name, node)
        except ApiError as exc:
            if exc.code not in (404, 409):
                raise
            self._forget(key)  # deleted or bound by someone else meanwhile
            return
        self._forget(key)
        self.registry.record_event(
            {**POD_REF, "metadata": bound["metadata"]}, "Normal", "Scheduled",
            f"Successfully assigned {namespace}/{name} to {node}", SCHEDULER_NAME,
        )

    def _unschedulable(self, key: Key, pod: Mapping[str, Any], message: str) -> float:
        namespace, name = ns_name(key)
        attempts = self._attempts.get(key, 0) + 1
        backoff = min(MAX_BACKOFF, INITIAL_BACKOFF * 2 ** (attempts - 1))
        self._attempts[key] = attempts
        self._retry_at[key] = time.monotonic() + backoff  # before writes that requeue us
        now = stamp(self.registry.clock())

        def mark(obj: dict) -> bool:
            conditions = obj.setdefault("status", {}).setdefault("conditions", [])
            return set_condition(conditions, {
                "type": "PodScheduled", "status": "False", "lastProbeTime": None,
                "reason": "Unschedulable", "message": message,
            }, now)

        updated = self.registry.mutate(R.PODS, namespace, name, mark, subresource="status")
        self.registry.record_event({**POD_REF, "metadata": (updated or pod)["metadata"]},
                                   "Warning", "FailedScheduling", message, SCHEDULER_NAME)
        return backoff


def _annotate(key: str, value: str) -> Callable[[dict], None]:
    """A `registry.mutate` callback that sets one annotation."""

    def apply(obj: dict) -> None:
        obj["metadata"].setdefault("annotations", {})[key] = value

    return apply


def build(cluster: Cluster) -> list[Controller]:
    return [Scheduler(cluster.registry)]
