"""Who leads, over time: each server's ``srvr`` mode sampled while a drill runs.

ZooKeeper has no watch on a server's role, so this is the one place the harness samples: a
thread asks every server its mode every ``interval`` seconds and keeps only the changes, for
the report's role lanes (leader/follower/looking/down under the pod lanes). It measures; no
wait or decision depends on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

_LOG = logging.getLogger("harness.zk.roles")


class RoleSampler:
    """``start()`` ... ``stop()``; ``changes`` is [(monotonic, pod, mode)] in time order."""

    def __init__(self, modes: Callable[[], Mapping[str, str]], interval: float = 0.5) -> None:
        self._modes = modes
        self.interval = interval
        self.changes: list[tuple[float, str, str]] = []
        self._last: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RoleSampler:
        self._thread = threading.Thread(target=self._run, name="zk roles", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, str, str]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
        return list(self.changes)

    def role_at(self, pod: str, instant: float) -> str:
        """The last mode seen for ``pod`` at or before ``instant`` ("unknown" if none)."""
        seen = [mode for at, who, mode in list(self.changes) if who == pod and at <= instant]
        return seen[-1] if seen else "unknown"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                seen = dict(self._modes())
            except Exception as exc:  # a sampling hiccup is a gap in the picture, no more
                _LOG.debug("role sample failed: %s", exc)
                seen = {}
            at = time.monotonic()
            for pod, mode in sorted(seen.items()):
                if self._last.get(pod) != mode:
                    self._last[pod] = mode
                    self.changes.append((at, pod, mode))
            self._stop.wait(self.interval)  # the sampling rate, not synchronisation
