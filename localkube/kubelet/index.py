"""Where exec, logs and port-forward find a pod's containers: `cluster.containers`.

The kubelets publish one `ContainerHandle` per (namespace, pod, container) and replace it
each time the container is (re)started; the API server's streaming handlers only read.

Contract for `localkube/apiserver/streaming.py`::

    handle = cluster.containers.lookup("default", "zk-0", "kubernetes-zookeeper")
    if handle is None: ...                 # no such pod/container on any kubelet (yet)
    handle.running                         # is the current instance alive?
    handle.waiting_reason                  # e.g. "ContainerCreating" before the first start
    handle.container                       # runtime container of the current (or last)
                                           # instance: use its exec API for pods/exec
    handle.pod_ip                          # the pod's loopback address, for port-forward
    handle.log_path                        # CRI log of the current (or last) instance
    handle.previous_log_path               # CRI log of the instance before it, or None
    await handle.wait_stopped()            # returns when this instance has exited
                                           # (ends `logs -f`); at once if not running
    cluster.containers.container_names("default", "zk-0")   # spec order, for messages

A handle describes one instance and never changes identity afterwards except `running`
turning false, so a follower can hold it and look up again after the instance ended.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(eq=False)
class ContainerHandle:
    """One container instance as seen by exec/logs/port-forward."""

    namespace: str
    pod: str
    pod_uid: str
    name: str
    #: runtime container object of this instance (None while waiting for the first start)
    container: Any
    container_id: str | None
    pod_ip: str | None
    log_path: Path | None
    previous_log_path: Path | None
    waiting_reason: str | None = None
    _stopped: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.container is not None and not self._stopped.is_set()

    def mark_stopped(self) -> None:
        """Called by the kubelet when this instance has exited."""
        self._stopped.set()

    async def wait_stopped(self) -> None:
        if self.container is None:
            return
        await self._stopped.wait()


class ContainerIndex:
    """(namespace, pod, container) → the latest `ContainerHandle`, across all kubelets."""

    def __init__(self) -> None:
        self._handles: dict[tuple[str, str, str], ContainerHandle] = {}
        self._names: dict[tuple[str, str], tuple[str, list[str]]] = {}

    def lookup(self, namespace: str, pod: str, container: str) -> ContainerHandle | None:
        return self._handles.get((namespace, pod, container))

    def container_names(self, namespace: str, pod: str) -> list[str]:
        entry = self._names.get((namespace, pod))
        return list(entry[1]) if entry else []

    # -- kubelet side --------------------------------------------------------------------
    def register_pod(self, namespace: str, pod: str, uid: str, names: list[str]) -> None:
        self._names[(namespace, pod)] = (uid, list(names))

    def publish(self, handle: ContainerHandle) -> None:
        owner = self._names.get((handle.namespace, handle.pod))
        if owner is not None and owner[0] != handle.pod_uid:
            return  # a newer pod with the same name owns the slot
        self._handles[(handle.namespace, handle.pod, handle.name)] = handle

    def forget_pod(self, namespace: str, pod: str, uid: str) -> None:
        """Drop a pod's handles, unless the name now belongs to a newer pod."""
        owner = self._names.get((namespace, pod))
        if owner is not None and owner[0] != uid:
            return
        self._names.pop((namespace, pod), None)
        for key in [k for k, h in self._handles.items()
                    if k[:2] == (namespace, pod) and h.pod_uid == uid]:
            del self._handles[key]
