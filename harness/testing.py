"""Test doubles for the harness's waits: a clock that moves only when told, scripted events.

Kept out of production modules so drills cannot depend on them; unit tests of conditions and
waits use them to run on deterministic time (no real seconds pass).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ManualClock", "ScriptedEventSource"]


class ManualClock:
    """A clock that moves only when slept on or advanced."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self.now += seconds


class ScriptedEventSource:
    """Events at fixed times on a ``ManualClock``; waiting for one advances the clock."""

    def __init__(self, clock: ManualClock, schedule: Iterable[tuple[float, object]] = ()) -> None:
        self.clock = clock
        self._pending = sorted(schedule, key=lambda item: item[0])
        self.delivered: list[tuple[float, object]] = []

    def at(self, when: float, event: object) -> None:
        self._pending.append((when, event))
        self._pending.sort(key=lambda item: item[0])

    def next_event(self, timeout: float) -> object | None:
        now = self.clock.monotonic()
        if self._pending and self._pending[0][0] <= now + timeout:
            when, event = self._pending.pop(0)
            self.clock.advance(max(0.0, when - now))
            self.delivered.append((self.clock.monotonic(), event))
            return event
        self.clock.advance(max(0.0, timeout))
        return None
