"""The reconcile-loop machinery every localkube controller and kubelet shares.

Level-triggered like client-go controllers: store changes map to keys, keys are queued
without duplicates, one worker reconciles a key at a time, failures are retried with
back-off, and `requeue_after` covers time-based work (grace periods, probes). A failing
reconcile is logged and retried; it never stops localkube.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable

from localkube.registry import Registry
from localkube.store import Change

log = logging.getLogger("localkube.controllers")

Key = Hashable


class WorkQueue:
    """A de-duplicating queue of keys with delayed adds (client-go's rate-limited queue)."""

    def __init__(self) -> None:
        self._pending: list[Key] = []
        self._queued: set[Key] = set()
        self._active: set[Key] = set()
        self._dirty: set[Key] = set()
        self._wakeup = asyncio.Event()
        self._timers: dict[Key, asyncio.TimerHandle] = {}

    def add(self, key: Key) -> None:
        if key in self._active:
            self._dirty.add(key)  # reconcile again once the current pass ends
            return
        if key not in self._queued:
            self._queued.add(key)
            self._pending.append(key)
            self._wakeup.set()

    def add_after(self, key: Key, delay: float) -> None:
        """Add `key` after `delay` seconds; an earlier pending timer for it wins."""
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        timer = self._timers.get(key)
        due = loop.time() + delay
        if timer is not None and not timer.cancelled() and timer.when() <= due:
            return
        if timer is not None:
            timer.cancel()

        def fire() -> None:
            self._timers.pop(key, None)
            self.add(key)

        self._timers[key] = loop.call_at(due, fire)

    async def get(self) -> Key:
        while not self._pending:
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._pending.pop(0)
        self._queued.discard(key)
        self._active.add(key)
        return key

    def done(self, key: Key) -> None:
        self._active.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


class Controller:
    """Subclasses map changes to keys and reconcile one key at a time."""

    name = "controller"
    #: store resource keys whose changes this controller cares about (None: all)
    watches: tuple[str, ...] | None = None
    max_backoff = 30.0

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.store = registry.store
        self.queue = WorkQueue()
        self._failures: dict[Key, int] = {}
        self._unsubscribe: Callable[[], None] | None = None

    # -- to override ---------------------------------------------------------------------
    def keys_for(self, change: Change) -> Iterable[Key]:
        """Keys to reconcile after a store change."""
        return ()

    def initial_keys(self) -> Iterable[Key]:
        """Keys to reconcile at start (a resync of existing objects)."""
        return ()

    async def reconcile(self, key: Key) -> float | None:
        """Bring `key` towards its desired state; return seconds to requeue after, or None."""
        return None

    # -- machinery -----------------------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        if self.watches is not None and change.resource not in self.watches:
            return
        for key in self.keys_for(change):
            self.queue.add(key)

    def start(self) -> None:
        """Subscribe to the store; call before the first write you care about."""
        self._unsubscribe = self.store.subscribe(self._on_change)
        for key in self.initial_keys():
            self.queue.add(key)

    async def run(self) -> None:
        if self._unsubscribe is None:
            self.start()
        try:
            while True:
                key = await self.queue.get()
                try:
                    delay = await self.reconcile(key)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    failures = self._failures.get(key, 0) + 1
                    self._failures[key] = failures
                    backoff = min(self.max_backoff, 0.05 * 2**failures)
                    log.exception(
                        "%s: reconcile of %r failed (retry in %.2fs)", self.name, key, backoff
                    )
                    self.queue.add_after(key, backoff)
                else:
                    self._failures.pop(key, None)
                    if delay is not None:
                        self.queue.add_after(key, delay)
                finally:
                    self.queue.done(key)
        finally:
            self.stop()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.queue.close()
