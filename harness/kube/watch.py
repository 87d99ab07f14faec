"""A background pod watcher: the pod timeline of a drill, and the wake-ups of its waits.

``PodWatcher`` lists the pods matching a selector, then watches from the list's
resourceVersion in a thread, recording every event as a ``PodEvent`` (what
``kubectl get pods -w`` prints) and keeping the latest object per pod. Each subscriber
(``subscribe()``, one per wait) gets every event on its own queue, so ``wait_for`` re-checks
its condition the moment something changes. When the watch expires (410 Gone) or ends (the
server's ``timeoutSeconds``, every ``relist_every`` seconds) the watcher re-lists and records
any difference it finds as ``RELISTED``/``GONE`` events: the safety net for missed events.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import urllib3

from harness.errors import ClusterError
from harness.kube.objects import POD
from harness.kube.transport import Transport, release
from harness.model.pod_status import PodSnapshot
from harness.timeline import GONE, LISTED, RELISTED, PodEvent
from harness.waits import QueueEventSource

DEFAULT_RELIST = 30.0
_LOG = logging.getLogger("harness.kube.watch")


class _Expired(Exception):
    """The watch's resourceVersion is too old (410): re-list and watch from the new one."""


class PodWatcher:
    def __init__(
        self,
        transport: Transport,
        namespace: str,
        selector: str,
        *,
        relist_every: float = DEFAULT_RELIST,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.transport = transport
        self.namespace = namespace
        self.selector = selector
        self.relist_every = relist_every
        self._clock = clock
        self._lock = threading.Lock()
        self._pods: dict[str, dict[str, Any]] = {}
        self._events: list[PodEvent] = []
        self._subscribers: weakref.WeakSet[QueueEventSource] = weakref.WeakSet()
        self._listeners: list[Callable[[PodEvent], None]] = []
        self._stop = threading.Event()
        self._response: urllib3.BaseHTTPResponse | None = None
        self._thread: threading.Thread | None = None
        self._rv = ""
        self.errors: list[str] = []
        self.relists = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> PodWatcher:
        """List now (so ``current()`` is valid on return), then watch in the background."""
        self._relist(initial=True)
        self._thread = threading.Thread(
            target=self._run, name=f"pod-watch {self.namespace}/{self.selector}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(OSError, ValueError, RuntimeError, AttributeError):
                response.shutdown()  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> PodWatcher:
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what it saw -------------------------------------------------------------------------
    def current(self) -> dict[str, PodSnapshot]:
        """The latest state of every existing pod, by name."""
        with self._lock:
            raws = list(self._pods.values())
        return {snap.name: snap for snap in map(PodSnapshot.from_pod, raws)}

    def raw(self, name: str) -> dict[str, Any] | None:
        """The latest pod object (API JSON) for details a snapshot leaves out (volumes)."""
        with self._lock:
            return self._pods.get(name)

    def events(self, since: int = 0) -> list[PodEvent]:
        """Every recorded event with ``seq > since``, in order."""
        with self._lock:
            return [e for e in self._events if e.seq > since]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._events[-1].seq if self._events else 0

    def subscribe(self) -> QueueEventSource:
        """A queue that receives every event from now on (dropped when unreferenced)."""
        source = QueueEventSource()
        with self._lock:
            self._subscribers.add(source)
        return source

    def add_listener(self, listener: Callable[[PodEvent], None]) -> None:
        """Call ``listener(event)`` (from the watch thread) for every event from now on."""
        with self._lock:
            self._listeners.append(listener)

    # -- internals ---------------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._watch_once()
                failures = 0
            except _Expired:
                pass
            except (ClusterError, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                if self._stop.is_set():
                    return
                failures += 1
                self.errors.append(f"{self._clock():%H:%M:%S} {exc}")
                _LOG.warning("pod watch failed (%s); re-listing", exc)
                # back off before hammering a failing API server; stop() ends the wait
                if self._stop.wait(min(5.0, 0.1 * 2**failures)):
                    return
            if self._stop.is_set():
                return
            try:
                self._relist(initial=False)
            except (ClusterError, urllib3.exceptions.HTTPError, OSError) as exc:
                self.errors.append(f"{self._clock():%H:%M:%S} re-list: {exc}")

    def _watch_once(self) -> None:
        query: list[tuple[str, str | int | bool]] = [
            ("watch", True),
            ("labelSelector", self.selector),
            ("resourceVersion", self._rv),
            ("allowWatchBookmarks", True),
            ("timeoutSeconds", max(1, int(self.relist_every))),
        ]
        response = self.transport.open(
            "GET",
            POD.path(self.namespace),
            query=query,
            timeout=(10.0, self.relist_every + 30.0),
        )
        self._response = response
        try:
            for line in _lines(response):
                if self._stop.is_set():
                    return
                self._handle(json.loads(line))
        finally:
            self._response = None
            release(response)

    def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired()
            raise ClusterError(f"pod watch error: {obj.get('message') or obj}")
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            self._rv = str(rv)
        if kind == "BOOKMARK":
            return
        self._record(str(kind), obj)

    def _relist(self, *, initial: bool) -> None:
        items, rv = _list(self.transport, self.namespace, self.selector)
        self._rv = rv
        if not initial:
            self.relists += 1
        listed = {str((i.get("metadata") or {}).get("name")): i for i in items}
        with self._lock:
            known = dict(self._pods)
        for name, old in known.items():
            now = listed.get(name)
            if now is None or _uid(now) != _uid(old):
                self._record(GONE, old)
        for name, item in listed.items():
            before = known.get(name)
            if before is None or _uid(before) != _uid(item) or _rv_of(before) != _rv_of(item):
                self._record(LISTED if initial else RELISTED, item)

    def _record(self, kind: str, obj: dict[str, Any]) -> None:
        snapshot = PodSnapshot.from_pod(obj)
        with self._lock:
            if kind in ("DELETED", GONE):
                current = self._pods.get(snapshot.name)
                if current is not None and _uid(current) == snapshot.uid:
                    del self._pods[snapshot.name]
            else:
                self._pods[snapshot.name] = obj
            seq = (self._events[-1].seq if self._events else 0) + 1
            event = PodEvent(seq, self._clock(), time.monotonic(), kind, snapshot)
            self._events.append(event)
            subscribers = list(self._subscribers)
            listeners = list(self._listeners)
        for source in subscribers:
            source.put(event)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener (the transcript) must not stop the watch
                _LOG.exception("pod event listener failed")


def _list(transport: Transport, namespace: str, selector: str) -> tuple[list[dict], str]:
    body = transport.request("GET", POD.path(namespace), query=[("labelSelector", selector)])
    items = sorted(body.get("items") or [], key=lambda p: p["metadata"]["name"])
    return items, str((body.get("metadata") or {}).get("resourceVersion") or "")


def _lines(response: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    """Complete lines of a streamed body, each yielded as soon as its newline arrives."""
    buffer = b""
    while True:
        chunk = response.read1(65536)  # type: ignore[attr-defined]
        if not chunk:
            break
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        yield from (line for line in complete if line.strip())
    if buffer.strip():
        yield buffer


def _uid(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def _rv_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")
