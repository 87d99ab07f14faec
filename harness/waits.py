"""The one generic wait: re-check a condition on every watch event, under one deadline.

Pure of cluster I/O: this module knows nothing about Kubernetes or ZooKeeper. A condition is a
callable returning a ``Progress`` (done + a human detail). ``wait_for`` evaluates it, then
blocks on an ``EventSource`` (a watch the kube layer feeds) until the next event, re-evaluating
on each one; when no event comes it re-evaluates every ``recheck`` seconds anyway, as a safety
net for missed events. On timeout it raises ``WaitTimeout`` carrying the last detail seen.

The retry loop is tenacity's (stop/wait/retry policies); the clock is injectable so tests run
on ``harness.testing``'s manual clock and scripted events and take no real time.

Plugging in a watch (kube layer): implement ``EventSource.next_event(timeout)`` — return any
non-None object when something relevant changed, or None after ``timeout`` seconds without
change — or feed a ``QueueEventSource`` from a watch thread. A condition object may carry
``description`` and ``events`` attributes (see ``Condition``); ``wait_for`` uses them when
not given explicitly, so ``wait_for(pods_ready(ensemble, 3), timeout=...)`` is enough.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import tenacity

from harness.errors import StabilityLost, WaitTimeout
from harness.model.progress import Progress

__all__ = [
    "DEFAULT_RECHECK",
    "SYSTEM_CLOCK",
    "Clock",
    "Condition",
    "EventSource",
    "Progress",
    "QueueEventSource",
    "SystemClock",
    "wait_for",
    "wait_until_stable",
]

DEFAULT_RECHECK = 2.0
_MAX_COALESCED = 10_000


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time. ``sleep`` only paces the safety-net re-check when no event source exists."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)  # sleep-ok: re-check interval of a poll, never synchronisation


SYSTEM_CLOCK = SystemClock()


class EventSource(Protocol):
    def next_event(self, timeout: float) -> object | None:
        """Block up to ``timeout`` seconds; return an event (not None) or None on timeout."""
        ...


class QueueEventSource:
    """Thread-safe in-memory event source: producers ``put``, a wait blocks in ``next_event``.

    The kube layer can feed one from a watch thread; tests can feed it by hand.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()

    def put(self, event: object) -> None:
        if event is None:
            raise ValueError("None means 'no event'; put a real object")
        self._queue.put(event)

    def next_event(self, timeout: float) -> object | None:
        try:
            return self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None


@dataclass(frozen=True)
class Condition:
    """A check plus what ``wait_for`` needs to describe and drive it.

    ``events`` is the source whose events can change the answer (e.g. a pod watch);
    ``timeout_class`` names the ``Timeouts`` field that bounds it by default (``rollout``,
    ``pod_ready``, ``step`` or ``zk``), as the e2e framework's named timeouts do.
    """

    check: Callable[[], Progress]
    description: str
    events: EventSource | None = None
    timeout_class: str = "step"

    def __call__(self) -> Progress:
        return self.check()


def wait_for(
    condition: Callable[[], Progress],
    *,
    timeout: float,
    description: str | None = None,
    events: EventSource | None = None,
    clock: Clock = SYSTEM_CLOCK,
    recheck: float = DEFAULT_RECHECK,
    tolerate: tuple[type[BaseException], ...] = (),
    on_progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Return the first ``Progress`` with ``done``; raise ``WaitTimeout`` after ``timeout`` s.

    The condition is evaluated at once, then after every event and at least every
    ``recheck`` seconds, and a last time at the deadline. Exceptions of the ``tolerate``
    types count as "not yet" (their text becomes the detail, and the cause of the
    ``WaitTimeout``); any other exception propagates at once. ``on_progress`` is called
    whenever the detail changes, for "currently X, waiting for Y" logs.
    """
    _check_arguments(timeout=timeout, recheck=recheck)
    runner = _Runner(
        description=_describe(condition, description),
        timeout=timeout,
        deadline=clock.monotonic() + timeout,
        clock=clock,
        events=_events_of(condition, events),
        recheck=recheck,
        tolerate=tolerate,
        on_progress=on_progress,
    )
    return runner.run(lambda: _checked(condition()))


def wait_until_stable(
    condition: Callable[[], Progress],
    duration: float,
    *,
    timeout: float | None = None,
    description: str | None = None,
    events: EventSource | None = None,
    clock: Clock = SYSTEM_CLOCK,
    recheck: float = DEFAULT_RECHECK,
    tolerate: tuple[type[BaseException], ...] = (),
    on_progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Return once ``condition`` has held for ``duration`` seconds without a break.

    With ``timeout=None`` (e.g. "the eviction stays refused for 30 s") it must hold from
    the first evaluation: the first not-done answer raises ``StabilityLost``. With a
    ``timeout`` a not-done answer restarts the window, and ``WaitTimeout`` is raised when
    no full window fits before it. A tolerated exception is "not observed": it never
    breaks a strict window, and restarts a lenient one (no evidence it held).
    """
    _check_arguments(duration=duration, recheck=recheck)
    if timeout is not None and timeout < duration:
        raise ValueError(f"timeout ({timeout}s) shorter than the window ({duration}s)")
    description = _describe(condition, description)
    strict = timeout is None
    limit = duration if timeout is None else timeout
    start = clock.monotonic()
    opened: float | None = start if strict else None  # when the current window began

    def evaluate() -> Progress:
        nonlocal opened
        began = clock.monotonic()
        try:
            seen = _checked(condition())
        except tolerate:
            if not strict:
                opened = None
            raise
        if not seen.done:
            if strict:
                raise StabilityLost(description, began - start, duration, seen.detail)
            opened = None
            return Progress.waiting(f"not holding: {seen.detail}")
        if opened is None:
            opened = began
        held = clock.monotonic() - opened
        if held >= duration:
            return Progress.ok(f"held for {held:.1f}s: {seen.detail}")
        return Progress.waiting(f"held for {held:.1f}s of {duration:.1f}s: {seen.detail}")

    def window_end() -> float | None:
        return None if opened is None else opened + duration

    runner = _Runner(
        description=description if strict else f"{description} to hold for {duration:.1f}s",
        timeout=limit,
        deadline=start + limit,
        clock=clock,
        events=_events_of(condition, events),
        recheck=recheck,
        tolerate=tolerate,
        on_progress=on_progress,
        next_wake=window_end,
    )
    return runner.run(evaluate)


class _Runner:
    """tenacity's retry loop with an injectable clock and an event-driven pause."""

    def __init__(
        self,
        *,
        description: str,
        timeout: float,
        deadline: float,
        clock: Clock,
        events: EventSource | None,
        recheck: float,
        tolerate: tuple[type[BaseException], ...],
        on_progress: Callable[[Progress], None] | None,
        next_wake: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.description = description
        self.timeout = timeout
        self.deadline = deadline
        self.clock = clock
        self.events = events
        self.recheck = recheck
        self.tolerate = tolerate
        self.on_progress = on_progress
        self.next_wake = next_wake
        self.last = Progress.waiting("(not evaluated)")

    def run(self, evaluate: Callable[[], Progress]) -> Progress:
        def attempt() -> Progress:
            try:
                progress = evaluate()
            except BaseException as exc:
                if self._tolerated(exc):
                    self._record(Progress.waiting(f"{type(exc).__name__}: {exc}"))
                raise
            self._record(progress)
            return progress

        retrying = tenacity.Retrying(
            sleep=self._pause,
            stop=lambda _state: self.clock.monotonic() >= self.deadline,
            wait=self._pause_length,
            retry=(
                tenacity.retry_if_result(lambda p: not p.done)
                | tenacity.retry_if_exception(self._tolerated)
            ),
            retry_error_callback=self._give_up,
        )
        return retrying(attempt)

    def _tolerated(self, exc: BaseException) -> bool:
        """A tolerated type counts as "not yet"; a broken stability window never does."""
        return isinstance(exc, self.tolerate) and not isinstance(exc, StabilityLost)

    def _record(self, progress: Progress) -> None:
        if self.on_progress is not None and progress != self.last:
            self.on_progress(progress)
        self.last = progress

    def _pause_length(self, _state: Any) -> float:
        now = self.clock.monotonic()
        pause = min(self.recheck, self.deadline - now)
        wake = self.next_wake()
        if wake is not None:
            pause = min(pause, wake - now)
        return max(0.0, pause)

    def _pause(self, seconds: float) -> None:
        """Until the next event (a burst counts once), or ``seconds`` without one."""
        seconds = float(seconds)
        if seconds <= 0:
            return
        if self.events is None:
            self.clock.sleep(seconds)
            return
        began = self.clock.monotonic()
        if self.events.next_event(seconds) is None:
            # A source that returns early with nothing must not turn this into a busy loop.
            rest = seconds - (self.clock.monotonic() - began)
            if rest > 0.001:
                self.clock.sleep(rest)
            return
        for _ in range(_MAX_COALESCED):
            if self.events.next_event(0.0) is None:
                break

    def _give_up(self, state: tenacity.RetryCallState) -> Progress:
        outcome = state.outcome
        cause = outcome.exception() if outcome is not None and outcome.failed else None
        detail = self.last.detail or "(no detail)"
        raise WaitTimeout(self.description, self.timeout, detail) from cause


def _checked(progress: object) -> Progress:
    if not isinstance(progress, Progress):
        raise TypeError(f"a wait condition must return Progress, got {type(progress).__name__}")
    return progress


def _describe(condition: Callable[[], Progress], description: str | None) -> str:
    return (
        description
        or getattr(condition, "description", None)
        or getattr(condition, "__name__", None)
        or repr(condition)
    )


def _events_of(condition: Callable[[], Progress], events: EventSource | None) -> EventSource | None:
    return events if events is not None else getattr(condition, "events", None)


def _check_arguments(*, recheck: float, **limits: float) -> None:
    for name, value in limits.items():
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if recheck <= 0:
        raise ValueError(f"recheck must be > 0, got {recheck}")
