"""A client that keeps writing while a drill disrupts the ensemble, to measure what users feel.

Why: "quorum held" is a claim about writes being accepted. ``BackgroundWriter`` opens one
kazoo session over *every* server (as an application would: it fails over when its server
goes away) and creates a sequential znode every ``interval`` seconds, each bounded by
``write_timeout``. It records when each write was acknowledged, so a drill can assert that
writes were accepted while a server was down, the bench can report the longest stretch with
no acknowledged write, and ``missing`` proves no acknowledged write was lost.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from harness.zk.client import session
from harness.zk.endpoint import Endpoint

ROOT = "/zkdrill/writer"
_LOG = logging.getLogger("harness.zk.writer")


@dataclass
class WriterReport:
    started: float
    stopped: float = 0.0
    acked: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, znode path)
    failed: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, error)

    def acked_between(self, start: float, end: float) -> int:
        return sum(1 for at, _ in self.acked if start <= at <= end)

    def longest_gap(self, start: float | None = None, end: float | None = None) -> float:
        """Longest time without an acknowledged write within [start, end] (default: all)."""
        lo = self.started if start is None else start
        hi = self.stopped if end is None else end
        times = [lo, *(at for at, _ in self.acked if lo <= at <= hi), hi]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def time_in_gaps(self, longer_than: float) -> float:
        """Total time spent in gaps between acknowledged writes longer than ``longer_than``."""
        times = [self.started, *(at for at, _ in self.acked), self.stopped]
        return sum(b - a for a, b in itertools.pairwise(times) if b - a > longer_than)

    def describe(self) -> str:
        span = self.stopped - self.started
        return (f"{len(self.acked)} writes acknowledged, {len(self.failed)} failed in "
                f"{span:.1f}s; longest gap without an acknowledged write {self.longest_gap():.2f}s")


class BackgroundWriter:
    """``start()`` ... ``stop()`` -> ``WriterReport``; usable as a context manager."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        run_id: str,
        *,
        interval: float = 0.2,
        write_timeout: float = 2.0,
        session_timeout: float = 10.0,
    ) -> None:
        self.hosts = ",".join(str(Endpoint.parse(e)) for e in endpoints)
        self.path = f"{ROOT}/{run_id}"
        self.interval = interval
        self.write_timeout = write_timeout
        self.client = KazooClient(
            hosts=self.hosts, timeout=session_timeout, randomize_hosts=False, logger=_LOG,
            connection_retry={"max_tries": -1, "delay": 0.1, "backoff": 1.5, "max_delay": 1.0},
        )
        self.report = WriterReport(time.monotonic())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, connect_timeout: float = 15.0) -> BackgroundWriter:
        self.client.start(timeout=connect_timeout)
        self.client.ensure_path(self.path)
        self.report = WriterReport(time.monotonic())
        self._thread = threading.Thread(target=self._run, name="zk writer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> WriterReport:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.write_timeout + 5.0)
        self.report.stopped = time.monotonic()
        try:
            self.client.stop()
        finally:
            self.client.close()
        return self.report

    def __enter__(self) -> BackgroundWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if not self._stop.is_set():
            self.stop()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                done = self.client.create_async(f"{self.path}/w-", str(n).encode(), sequence=True)
                path = done.get(timeout=self.write_timeout)
                self.report.acked.append((time.monotonic(), str(path)))
            except (KazooException, KazooTimeoutError, OSError) as exc:
                self.report.failed.append((time.monotonic(), f"{type(exc).__name__}: {exc}"))
            self._stop.wait(self.interval)  # the write rate, not synchronisation


def missing(endpoint: Endpoint, report: WriterReport, *, timeout: float = 10.0) -> list[str]:
    """Acknowledged writes that ``endpoint`` (after ``sync``) does not have."""
    if not report.acked:
        return []
    parent = report.acked[0][1].rsplit("/", 1)[0]
    with session(endpoint, timeout=timeout) as client:
        client.sync(parent)
        present = {f"{parent}/{child}" for child in client.get_children(parent)}
    return [path for _, path in report.acked if path not in present]
