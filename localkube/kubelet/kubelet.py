"""One node's kubelet: admits the pods bound to its node and hands each to a `PodWorker`.

A `Controller` keyed by (namespace, name): store changes of pods on this node — and of
claims, volumes and ConfigMaps for pods waiting on them — enqueue the key; `reconcile`
only routes the newest object to the worker of its UID (creating it on first sight) and
tells workers whose pod is gone from the API. All real work happens in the workers, so
one slow pod never delays another. `power_off`/`power_on` are the machine's power switch
(`localkube node stop|start`): everything dies without a word to the API, then the kubelet
boots and reconciles every pod bound to its node from the API again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable, Iterable

from localkube import resources as R
from localkube.controllers.base import Controller
from localkube.kubelet.context import NodeContext
from localkube.kubelet.pod import PodWorker
from localkube.store import Change

Key = tuple[str, str]
VOLUME_SOURCES = (R.PVCS.key, R.PVS.key, R.CONFIGMAPS.key)
POWER_OFF_TIMEOUT = 15.0


def _node_of(obj: dict | None) -> str | None:
    return ((obj or {}).get("spec") or {}).get("nodeName")


class Kubelet(Controller):
    """The kubelet of `ctx.node`."""

    watches = (R.PODS.key, *VOLUME_SOURCES)

    def __init__(self, ctx: NodeContext) -> None:
        super().__init__(ctx.registry)
        self.ctx = ctx
        self.name = f"kubelet-{ctx.node}"
        self.workers: dict[str, PodWorker] = {}
        self.shutting_down = False
        #: False while the machine is switched off (`localkube node stop`)
        self.powered = True

    def keys_for(self, change: Change) -> Iterable[Key]:
        if change.resource == R.PODS.key:
            if self.ctx.node in (_node_of(change.obj), _node_of(change.old)):
                meta = change.obj["metadata"]
                return [(meta["namespace"], meta["name"])]
            return []
        for worker in self.workers.values():  # claims, volumes, ConfigMaps: wake who waits
            if worker.waiting_volumes or (change.resource == R.CONFIGMAPS.key
                                          and worker.uses_config_maps()):
                worker.volumes_dirty = worker.volumes_dirty or worker.volumes is not None
                worker.kick()
        return []

    def initial_keys(self) -> Iterable[Key]:
        return [(o["metadata"]["namespace"], o["metadata"]["name"])
                for o, _ in self.store.scan(R.PODS.key) if _node_of(o) == self.ctx.node]

    async def reconcile(self, key: Hashable) -> float | None:
        assert isinstance(key, tuple)
        if not self.powered:
            return None  # a switched-off kubelet sees nothing; power_on re-lists
        pod = self.store.get(R.PODS.key, *key)
        uid = pod["metadata"]["uid"] if pod is not None and _node_of(pod) == self.ctx.node \
            else None
        for worker in list(self.workers.values()):
            if (worker.namespace, worker.name) == key and worker.uid != uid:
                worker.mark_gone()
        if uid is None or pod is None:
            return None
        pod.setdefault("apiVersion", "v1")
        pod.setdefault("kind", "Pod")
        existing = self.workers.get(uid)
        if existing is not None:
            existing.update(pod)
        elif not self.shutting_down:
            worker = PodWorker(self.ctx, pod, self._forget)
            self.workers[uid] = worker
            worker.start()
        return None

    def _forget(self, worker: PodWorker) -> None:
        if self.workers.get(worker.uid) is worker:
            del self.workers[worker.uid]

    # -- power (see localkube.nodes.power) ------------------------------------------------
    async def power_off(self, node: str) -> None:
        """Power loss: SIGKILL every container of every pod now and forget them, writing
        nothing to the API (the pod objects stay as they were)."""
        if node != self.ctx.node:
            return
        self.powered = False
        workers = list(self.workers.values())
        for worker in workers:
            worker.power_off()
        tasks = [w.task for w in workers if w.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=POWER_OFF_TIMEOUT)
            for task in pending:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        for worker in workers:
            self._forget(worker)

    async def power_on(self, node: str) -> None:
        """Boot: look at every pod bound here again. A worker created now resumes from
        the pod's last status (see `PodWorker`): a pod being deleted is finished without
        starting anything, others get their containers started again."""
        if node != self.ctx.node:
            return
        self.powered = True
        for key in self.initial_keys():
            self.queue.add(key)

    async def shutdown(self, cap: float) -> None:
        """Stop every pod's containers (grace bounded by `cap`) and wait until they are gone."""
        self.shutting_down = True
        workers = list(self.workers.values())
        for worker in workers:
            worker.request_shutdown(cap)
        tasks = [w.task for w in workers if w.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=cap + 10)
        for worker in workers:
            if worker.task in pending:
                for runner in worker.runners:
                    runner.force_kill()
        if pending:
            _, still = await asyncio.wait(pending, timeout=10)
            for task in still:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
