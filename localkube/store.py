"""The object store: every API object, one global resourceVersion, and watch fan-out.

Contract: synchronous methods called from the single asyncio loop, so each write is atomic
with respect to every reader. Stored objects are never mutated in place: readers get fresh
copies (decoded from the stored JSON, which is faster than ``copy.deepcopy``) and the HTTP
layer can send the stored bytes as they are. Kubernetes semantics (validation, defaults,
graceful deletion) live in ``localkube.registry``; this module only stores and notifies.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from localkube.apimachinery.errors import ApiError

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"

Predicate = Callable[[dict], bool]


def encode(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Change:
    """One committed write: the object after it, and before it (None for a create)."""

    rv: int
    resource: str
    type: str
    obj: dict
    raw: bytes
    old: dict | None

    @property
    def namespace(self) -> str:
        return self.obj.get("metadata", {}).get("namespace", "")


@dataclass
class WatchEvent:
    type: str
    obj: dict
    raw: bytes | None = None


@dataclass(eq=False)  # identity semantics: the store keeps watchers in a set
class Watcher:
    """One watch stream's view of the changes: filtered, translated, queued."""

    resource: str
    namespace: str | None
    predicate: Predicate
    queue: asyncio.Queue[WatchEvent | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def offer(self, change: Change) -> None:
        """Queue the event this watcher sees for a change, as the apiserver's cacher does.

        An object that stops matching the selectors is reported DELETED, one that starts
        matching is reported ADDED.
        """
        if self.closed or change.resource != self.resource:
            return
        if self.namespace and change.namespace != self.namespace:
            return
        now = change.type != DELETED and self.predicate(change.obj)
        before = change.old is not None and self.predicate(change.old)
        if change.type == DELETED:
            if self.predicate(change.obj):
                self.queue.put_nowait(WatchEvent(DELETED, change.obj, change.raw))
        elif now and before:
            self.queue.put_nowait(WatchEvent(MODIFIED, change.obj, change.raw))
        elif now:
            self.queue.put_nowait(WatchEvent(ADDED, change.obj, change.raw))
        elif before:
            self.queue.put_nowait(WatchEvent(DELETED, change.obj, change.raw))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class Store:
    """All objects of all resources, keyed by (namespace, name) within a resource key."""

    def __init__(self, history: int = 20000) -> None:
        self._objects: dict[str, dict[tuple[str, str], tuple[dict, bytes]]] = {}
        self._rv = 0
        self._history: deque[Change] = deque(maxlen=history)
        self._compacted_rv = 0
        self._watchers: set[Watcher] = set()
        self._listeners: list[Callable[[Change], None]] = []

    # -- reads ---------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        entry = self._objects.get(resource, {}).get((namespace, name))
        return json.loads(entry[1]) if entry else None

    def get_raw(self, resource: str, namespace: str, name: str) -> bytes | None:
        entry = self._objects.get(resource, {}).get((namespace, name))
        return entry[1] if entry else None

    def peek(self, resource: str, namespace: str, name: str) -> dict | None:
        """The stored object itself, for read-only use on hot paths. Never mutate it."""
        entry = self._objects.get(resource, {}).get((namespace, name))
        return entry[0] if entry else None

    def scan(self, resource: str, namespace: str | None = None) -> Iterator[tuple[dict, bytes]]:
        """Stored objects and their bytes, read-only, in (namespace, name) order."""
        bucket = self._objects.get(resource, {})
        for key in sorted(bucket):
            if namespace is None or key[0] == namespace:
                yield bucket[key]

    def list(
        self, resource: str, namespace: str | None = None, predicate: Predicate | None = None
    ) -> list[dict]:
        return [
            json.loads(raw)
            for obj, raw in self.scan(resource, namespace)
            if predicate is None or predicate(obj)
        ]

    def count(self, resource: str) -> int:
        return len(self._objects.get(resource, {}))

    # -- writes --------------------------------------------------------------------------
    def commit(self, resource: str, obj: dict) -> dict:
        """Store a create or update: stamps the next resourceVersion and notifies watchers."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        bucket = self._objects.setdefault(resource, {})
        old = bucket.get(key)
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        raw = encode(obj)
        frozen = json.loads(raw)
        bucket[key] = (frozen, raw)
        self._publish(
            Change(
                self._rv, resource, MODIFIED if old else ADDED, frozen, raw, old[0] if old else None
            )
        )
        return json.loads(raw)

    def remove(self, resource: str, namespace: str, name: str) -> dict | None:
        """Delete an object for good; watchers see DELETED with a fresh resourceVersion."""
        bucket = self._objects.get(resource, {})
        entry = bucket.pop((namespace, name), None)
        if entry is None:
            return None
        self._rv += 1
        gone = json.loads(entry[1])
        gone["metadata"]["resourceVersion"] = str(self._rv)
        raw = encode(gone)
        self._publish(Change(self._rv, resource, DELETED, json.loads(raw), raw, entry[0]))
        return gone

    def _publish(self, change: Change) -> None:
        if len(self._history) == self._history.maxlen:
            self._compacted_rv = self._history[0].rv
        self._history.append(change)
        for watcher in list(self._watchers):
            watcher.offer(change)
        for listener in list(self._listeners):
            listener(change)

    # -- notifications -------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call `listener` synchronously on every change (controllers use it to enqueue work)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def watch(
        self,
        resource: str,
        namespace: str | None,
        predicate: Predicate,
        since: int | None,
    ) -> Watcher:
        """Open a watch. `since=None` starts with ADDED for every match (RV absent or "0").

        A `since` older than the retained history raises 410 Expired, as etcd compaction
        does; clients then re-list.
        """
        watcher = Watcher(resource, namespace, predicate)
        if since is None:
            for obj, raw in self.scan(resource, namespace):
                if predicate(obj):
                    watcher.queue.put_nowait(WatchEvent(ADDED, obj, raw))
        else:
            if since < self._compacted_rv:
                raise ApiError(
                    410,
                    "Expired",
                    f"too old resource version: {since} ({self._compacted_rv + 1})",
                )
            for change in self._history:
                if change.rv > since:
                    watcher.offer(change)
        self._watchers.add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)
        watcher.close()

    def close_all_watches(self) -> None:
        for watcher in list(self._watchers):
            self.unwatch(watcher)
