"""The kubelet's per-key exponential back-off (client-go ``flowcontrol.Backoff`` semantics).

Used for container restarts (CrashLoopBackOff) and image pulls (ImagePullBackOff). The
rules, as the kubelet applies them:

- the first failure is let through and arms the initial delay (10 s);
- a failure while ``now - finished < delay`` is "in back-off" (the kubelet waits and
  reports the current delay, e.g. ``back-off 20s restarting failed container=...``);
- each further pass doubles the delay up to the cap (300 s);
- an entry whose last update is older than twice the cap (600 s) starts over.

Pure: time is passed in, so tests need no sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass

INITIAL = 10.0
CAP = 300.0


@dataclass
class _Entry:
    delay: float
    last_update: float


class Backoff:
    """Back-off state for any number of keys (one per container, or per pulled image)."""

    def __init__(self, initial: float = INITIAL, cap: float = CAP) -> None:
        self.initial = initial
        self.cap = cap
        self._entries: dict[str, _Entry] = {}

    def _expired(self, entry: _Entry, event_time: float) -> bool:
        return event_time - entry.last_update > 2 * self.cap

    def delay(self, key: str) -> float:
        """The current delay for `key` (what the CrashLoopBackOff message shows)."""
        entry = self._entries.get(key)
        return entry.delay if entry else 0.0

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        """Is an event (a container exit at `event_time`) still inside the back-off window?"""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            return False
        return now - event_time < entry.delay

    def in_backoff_since_update(self, key: str, now: float) -> bool:
        """Image pulls: is `now` inside the window opened by the last failure?"""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, now):
            return False
        return now - entry.last_update < entry.delay

    def remaining_since(self, key: str, event_time: float, now: float) -> float:
        """Seconds until an event at `event_time` leaves the back-off window."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, event_time + entry.delay - now)

    def remaining_since_update(self, key: str, now: float) -> float:
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.last_update + entry.delay - now)

    def next(self, key: str, event_time: float, now: float) -> None:
        """Record a pass: start at the initial delay (or over, when stale), else double."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            self._entries[key] = _Entry(self.initial, now)
        else:
            entry.delay = min(entry.delay * 2, self.cap)
            entry.last_update = now

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)


def go_duration(seconds: float) -> str:
    """Format like Go's ``time.Duration.String`` for whole seconds: ``10s``, ``1m20s``, ``5m0s``."""
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{secs}s"
