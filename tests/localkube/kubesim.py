"""Test doubles for the node side, as Kubernetes' own controller integration tests use them.

`FakeNodes` plays scheduler and kubelet: it binds pods, marks them Running and Ready through
the status subresource, and finishes graceful deletes with grace 0. Tests can hold a pod
unready or keep it terminating to observe what the controllers do meanwhile. `Recorder` keeps
every store change in order so tests assert on sequences; `wait_for` waits on store state
under a deadline, woken by store changes (no sleeps).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from localkube import resources as R
from localkube.apimachinery.meta import format_time
from localkube.cluster import Cluster, ClusterConfig
from localkube.controllers.base import Controller, Key
from localkube.registry import Registry
from localkube.store import DELETED, Change, Store

NS = "default"


class FakeNodes(Controller):
    """Bind, start and stop pods the way a scheduler and kubelet would, on command."""

    name = "fake-nodes"
    watches = (R.PODS.key,)

    def __init__(self, registry: Registry, node: str = "node-1", auto_ready: bool = True) -> None:
        super().__init__(registry)
        self.node = node
        self.auto_ready = auto_ready
        self.hold_ready: set[str] = set()  # pod names kept Running but not Ready
        self.hold_termination: set[str] = set()  # pod names kept terminating

    def keys_for(self, change: Change) -> Iterable[Key]:
        if change.type == DELETED:
            return ()
        meta = change.obj["metadata"]
        return [(meta.get("namespace", ""), meta["name"])]

    async def reconcile(self, key: Key) -> float | None:
        ns, name = cast(tuple[str, str], key)
        pod = self.store.get(R.PODS.key, ns, name)
        if pod is None:
            return None
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            if name not in self.hold_termination:
                self.finish(ns, name)
            return None
        if not pod["spec"].get("nodeName"):
            self.registry.bind_pod(ns, name, self.node)
            return None
        if (pod.get("status") or {}).get("phase") == "Pending" and self.auto_ready:
            self.set_state(ns, name, "Running", ready=name not in self.hold_ready)
        return None

    # -- commands for tests --------------------------------------------------------------
    def set_state(self, ns: str, name: str, phase: str, ready: bool) -> None:
        now = format_time(self.registry.clock())

        def write(pod: dict) -> None:
            status = pod.setdefault("status", {})
            status["phase"] = phase
            conditions = [c for c in status.get("conditions") or []
                          if c.get("type") not in ("Ready", "ContainersReady")]
            value = "True" if ready else "False"
            for kind in ("ContainersReady", "Ready"):
                old = next((c for c in status.get("conditions") or [] if c.get("type") == kind),
                           None)
                since = old["lastTransitionTime"] if old and old.get("status") == value else now
                conditions.append({"type": kind, "status": value, "lastProbeTime": None,
                                   "lastTransitionTime": since})
            status["conditions"] = conditions

        self.registry.mutate(R.PODS, ns, name, write, subresource="status")

    def make_ready(self, name: str, ns: str = NS) -> None:
        self.hold_ready.discard(name)
        self.set_state(ns, name, "Running", ready=True)

    def fail(self, name: str, ns: str = NS) -> None:
        self.set_state(ns, name, "Failed", ready=False)

    def finish(self, ns: str, name: str) -> None:
        """What the kubelet does once containers stopped: phase Failed, then DELETE grace 0."""
        pod = self.store.get(R.PODS.key, ns, name)
        if pod is None:
            return
        self.hold_termination.discard(name)
        if pod["spec"].get("nodeName"):
            self.set_state(ns, name, "Failed", ready=False)
        self.registry.delete(R.PODS, ns, name, {
            "gracePeriodSeconds": 0, "preconditions": {"uid": pod["metadata"]["uid"]}})


@dataclass(frozen=True)
class Seen:
    """One store change, reduced to what ordering assertions need."""

    rv: int
    type: str
    resource: str
    name: str
    obj: dict

    @property
    def terminating(self) -> bool:
        return bool(self.obj["metadata"].get("deletionTimestamp"))

    @property
    def ready(self) -> bool:
        return any(c.get("type") == "Ready" and c.get("status") == "True"
                   for c in (self.obj.get("status") or {}).get("conditions") or [])


class Recorder:
    """Every change, in commit order."""

    def __init__(self, store: Store) -> None:
        self.changes: list[Seen] = []
        self._unsubscribe = store.subscribe(self._on)

    def _on(self, change: Change) -> None:
        meta = change.obj["metadata"]
        self.changes.append(Seen(change.rv, change.type, change.resource, meta["name"], change.obj))

    def of(self, resource: R.Resource, name: str | None = None) -> list[Seen]:
        return [c for c in self.changes
                if c.resource == resource.key and (name is None or c.name == name)]

    def first(self, pred: Callable[[Seen], bool]) -> Seen:
        for seen in self.changes:
            if pred(seen):
                return seen
        raise AssertionError("no recorded change matches")

    def index(self, pred: Callable[[Seen], bool]) -> int:
        return self.changes.index(self.first(pred))

    def when(self, name: str, pred: Callable[[Seen], bool] = lambda _s: True,
             resource: R.Resource | None = None) -> int:
        """Position of the first change to object `name` (of `resource`) matching `pred`."""
        return self.index(lambda s: s.name == name and pred(s)
                          and (resource is None or s.resource == resource.key))

    def close(self) -> None:
        self._unsubscribe()


async def wait_for(store: Store, cond: Callable[[], Any], timeout: float = 5.0,
                   what: str = "condition") -> Any:
    """Re-check `cond` after every store change until it is truthy or the deadline passes."""
    woke = asyncio.Event()
    unsubscribe = store.subscribe(lambda _change: woke.set())
    try:
        async with asyncio.timeout(timeout):
            while True:
                result = cond()
                if result:
                    return result
                woke.clear()
                await woke.wait()
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None
    finally:
        unsubscribe()


async def settle(cluster: Cluster, spins: int = 5) -> None:
    """Yield to the loop until every component's queue is empty for a few rounds in a row.

    Used before asserting that something did *not* happen: the controllers have seen every
    change by then. Pending timers (requeue_after) are not waited for.
    """
    quiet = 0
    for _ in range(10_000):
        await asyncio.sleep(0)
        busy = any(c.queue._pending or c.queue._active for c in cluster.components
                   if isinstance(c, Controller))
        quiet = 0 if busy else quiet + 1
        if quiet >= spins:
            return
    raise AssertionError("controllers never settled")


def run(tmp_path: Path, scenario: Callable[[Cluster], Awaitable[None]],
        build: Callable[[Cluster], list[Controller]]) -> None:
    """Bootstrap a cluster without kubelets, start `build(cluster)` and run `scenario`."""

    async def main() -> None:
        cluster = Cluster(ClusterConfig(state_dir=tmp_path, run_kubelets=False))
        cluster.bootstrap()
        cluster.add(build(cluster))  # type: ignore[arg-type]
        cluster.start()
        try:
            await scenario(cluster)
        finally:
            await cluster.stop()

    asyncio.run(main())


def component(cluster: Cluster, kind: type) -> Any:
    return next(c for c in cluster.components if isinstance(c, kind))


class SimEnv:
    """What every controller test reaches for: the cluster's store and registry, the fake
    nodes playing kubelet, and a recorder of every change. Tests extend it with helpers."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.registry = cluster.registry
        self.nodes: FakeNodes = component(cluster, FakeNodes)
        self.rec = Recorder(cluster.store)

    def pod(self, name: str) -> Any:
        return self.store.get(R.PODS.key, NS, name)
