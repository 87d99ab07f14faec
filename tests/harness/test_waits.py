"""wait_for / wait_until_stable on a ManualClock: no real time passes (except one thread test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from harness.errors import FourLetterWordError, StabilityLost, WaitTimeout
from harness.testing import ManualClock, ScriptedEventSource
from harness.waits import (
    Condition,
    Progress,
    QueueEventSource,
    wait_for,
    wait_until_stable,
)


class Probe:
    """A condition over time: ``answer(now)`` decides; every evaluation time is recorded."""

    def __init__(self, clock: ManualClock, answer: Callable[[float], Progress]) -> None:
        self.clock = clock
        self.answer = answer
        self.calls: list[float] = []

    def __call__(self) -> Progress:
        now = self.clock.monotonic()
        self.calls.append(now)
        return self.answer(now)


def ready_after(moment: float) -> Callable[[float], Progress]:
    def answer(now: float) -> Progress:
        if now >= moment:
            return Progress.ok("3/3 pods ready")
        return Progress.waiting("2/3 pods ready: zk-2 is ContainerCreating")

    return answer


def test_done_at_once_takes_no_time():
    clock = ManualClock()
    probe = Probe(clock, ready_after(0))
    result = wait_for(probe, timeout=30, description="pods ready", clock=clock)
    assert result == Progress.ok("3/3 pods ready")
    assert probe.calls == [0]


def test_reevaluates_on_the_event_not_by_polling():
    clock = ManualClock()
    events = ScriptedEventSource(clock, [(5.0, "MODIFIED zk-2")])
    probe = Probe(clock, ready_after(5))
    wait_for(probe, timeout=300, description="pods ready", events=events, clock=clock, recheck=60)
    assert probe.calls == [0, 5]
    assert clock.monotonic() == 5


def test_safety_net_recheck_between_events():
    clock = ManualClock()
    events = ScriptedEventSource(clock, [(5.0, "MODIFIED")])
    probe = Probe(clock, ready_after(5))
    wait_for(probe, timeout=30, description="pods ready", events=events, clock=clock, recheck=2)
    assert probe.calls == [0, 2, 4, 5]


def test_burst_of_events_is_evaluated_once():
    clock = ManualClock()
    events = ScriptedEventSource(clock, [(1.0, f"event {i}") for i in range(50)])
    probe = Probe(clock, ready_after(1))
    wait_for(probe, timeout=30, description="x", events=events, clock=clock, recheck=10)
    assert probe.calls == [0, 1]
    assert len(events.delivered) == 50


def test_timeout_names_the_last_state():
    clock = ManualClock()
    probe = Probe(clock, ready_after(1000))
    with pytest.raises(WaitTimeout) as caught:
        wait_for(probe, timeout=30, description="3 pods ready", clock=clock, recheck=2)
    err = caught.value
    assert str(err) == (
        "timed out after 30.0s waiting for 3 pods ready; "
        "last observed: 2/3 pods ready: zk-2 is ContainerCreating"
    )
    assert (err.description, err.timeout) == ("3 pods ready", 30)
    assert err.last_state == "2/3 pods ready: zk-2 is ContainerCreating"
    assert probe.calls == [float(t) for t in range(0, 31, 2)]  # last look exactly at the deadline
    assert clock.monotonic() == 30


def test_deadline_caps_the_last_pause():
    clock = ManualClock()
    probe = Probe(clock, ready_after(1000))
    with pytest.raises(WaitTimeout):
        wait_for(probe, timeout=5, description="x", clock=clock, recheck=2)
    assert probe.calls == [0, 2, 4, 5]


def test_zero_timeout_evaluates_once():
    clock = ManualClock()
    probe = Probe(clock, ready_after(1))
    with pytest.raises(WaitTimeout):
        wait_for(probe, timeout=0, description="x", clock=clock)
    assert probe.calls == [0]


def test_tolerated_errors_count_as_not_yet():
    clock = ManualClock()
    failures = iter([FourLetterWordError("127.0.0.1:2181", "srvr: Connection refused")] * 2)

    def flaky() -> Progress:
        error = next(failures, None)
        if error is not None:
            raise error
        return Progress.ok("leader zk-1")

    result = wait_for(
        flaky, timeout=30, description="a leader", clock=clock, tolerate=(FourLetterWordError,)
    )
    assert result.detail == "leader zk-1"
    assert clock.monotonic() == 4


def test_untolerated_errors_propagate_at_once():
    clock = ManualClock()

    def broken() -> Progress:
        raise FourLetterWordError("127.0.0.1:2181", "srvr: Connection refused")

    with pytest.raises(FourLetterWordError):
        wait_for(broken, timeout=30, description="x", clock=clock)
    assert clock.monotonic() == 0


def test_timeout_after_tolerated_errors_chains_the_last_one():
    clock = ManualClock()
    error = FourLetterWordError("127.0.0.1:2181", "srvr: Connection refused")

    def broken() -> Progress:
        raise error

    with pytest.raises(WaitTimeout) as caught:
        wait_for(
            broken,
            timeout=6,
            description="a leader",
            clock=clock,
            tolerate=(OSError, FourLetterWordError),
        )
    assert (
        caught.value.last_state == "FourLetterWordError: 127.0.0.1:2181: srvr: Connection refused"
    )
    assert caught.value.__cause__ is error


def test_condition_must_return_progress():
    with pytest.raises(TypeError, match="must return Progress"):
        wait_for(lambda: True, timeout=1, description="x", clock=ManualClock())  # type: ignore[arg-type,return-value]


def test_condition_object_carries_description_and_events():
    clock = ManualClock()
    events = ScriptedEventSource(clock, [(3.0, "ADDED")])
    cond = Condition(Probe(clock, ready_after(3)), "zk-0 Running and Ready", events)
    assert wait_for(cond, timeout=10, clock=clock, recheck=60).done
    assert clock.monotonic() == 3
    with pytest.raises(WaitTimeout, match="waiting for zk-0 Running and Ready"):
        wait_for(
            Condition(Probe(clock, ready_after(1e9)), "zk-0 Running and Ready"),
            timeout=1,
            clock=clock,
        )


def test_on_progress_reports_changes_only():
    clock = ManualClock()
    seen: list[str] = []

    def answer(now: float) -> Progress:
        if now < 4:
            return Progress.waiting("1/3 ready")
        if now < 8:
            return Progress.waiting("2/3 ready")
        return Progress.ok("3/3 ready")

    wait_for(
        Probe(clock, answer),
        timeout=20,
        description="x",
        clock=clock,
        on_progress=lambda p: seen.append(p.detail),
    )
    assert seen == ["1/3 ready", "2/3 ready", "3/3 ready"]


def test_source_returning_early_does_not_spin():
    clock = ManualClock()

    class Impatient:
        def next_event(self, timeout: float) -> object | None:
            return None  # returns at once, without waiting

    probe = Probe(clock, ready_after(1000))
    with pytest.raises(WaitTimeout):
        wait_for(probe, timeout=10, description="x", events=Impatient(), clock=clock, recheck=2)
    assert probe.calls == [0, 2, 4, 6, 8, 10]


def test_bad_arguments():
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        wait_for(lambda: Progress.ok(), timeout=-1, description="x")
    with pytest.raises(ValueError, match="recheck must be > 0"):
        wait_for(lambda: Progress.ok(), timeout=1, description="x", recheck=0)
    with pytest.raises(ValueError, match="duration must be >= 0"):
        wait_until_stable(lambda: Progress.ok(), -1, description="x")
    with pytest.raises(ValueError, match="shorter than the window"):
        wait_until_stable(lambda: Progress.ok(), 10, timeout=5, description="x")
    with pytest.raises(ValueError):
        QueueEventSource().put(None)


def test_queue_event_source_wakes_a_real_wait():
    """The kube layer's shape: a watch thread puts events, the wait wakes on them."""
    events = QueueEventSource()
    state = {"ready": False}

    def watch_thread() -> None:
        state["ready"] = True
        events.put({"type": "MODIFIED"})

    timer = threading.Timer(0.05, watch_thread)
    began = time.monotonic()
    timer.start()
    try:
        result = wait_for(
            lambda: Progress(state["ready"], "ready" if state["ready"] else "not yet"),
            timeout=10,
            description="ready",
            events=events,
            recheck=10,
        )
    finally:
        timer.cancel()
    assert result.done
    assert time.monotonic() - began < 5  # woke on the event, not on the 10 s recheck
    assert events.next_event(0) is None


# --- wait_until_stable ------------------------------------------------------------------------


def refused_until(moment: float) -> Callable[[float], Progress]:
    def answer(now: float) -> Progress:
        if now < moment:
            return Progress.ok("eviction of zk-2 refused (429)")
        return Progress.waiting("eviction of zk-2 accepted")

    return answer


def test_stable_strict_holds_for_the_window():
    clock = ManualClock()
    probe = Probe(clock, refused_until(1e9))
    result = wait_until_stable(probe, 5, description="eviction refused", clock=clock, recheck=2)
    assert result.done
    assert result.detail == "held for 5.0s: eviction of zk-2 refused (429)"
    assert probe.calls == [0, 2, 4, 5]


def test_stable_strict_breaks_on_the_first_false():
    clock = ManualClock()
    events = ScriptedEventSource(clock, [(3.0, "MODIFIED zk-2")])
    probe = Probe(clock, refused_until(3))
    with pytest.raises(StabilityLost) as caught:
        wait_until_stable(
            probe,
            30,
            description="eviction of zk-2 refused",
            events=events,
            clock=clock,
            recheck=10,
        )
    assert str(caught.value) == (
        "eviction of zk-2 refused stopped holding after 3.0s of the required 30.0s; "
        "observed: eviction of zk-2 accepted"
    )
    assert isinstance(caught.value, AssertionError)
    assert probe.calls == [0, 3]


def test_stable_strict_is_never_tolerated_away():
    clock = ManualClock()
    with pytest.raises(StabilityLost):
        wait_until_stable(
            Probe(clock, refused_until(1)),
            5,
            description="x",
            clock=clock,
            tolerate=(AssertionError, Exception),
        )


def test_stable_strict_survives_a_tolerated_blip():
    clock = ManualClock()
    calls = iter([None, FourLetterWordError("a:1", "reset")])

    def check() -> Progress:
        error = next(calls, None)
        if error is not None:
            raise error
        return Progress.ok("refused")

    result = wait_until_stable(
        check, 5, description="x", clock=clock, recheck=2, tolerate=(FourLetterWordError,)
    )
    assert result.done
    assert clock.monotonic() == 5


def test_stable_lenient_waits_for_a_full_window():
    clock = ManualClock()

    def answer(now: float) -> Progress:
        return Progress(now >= 4, "leader zk-1" if now >= 4 else "no leader")

    probe = Probe(clock, answer)
    result = wait_until_stable(
        probe, 5, timeout=20, description="one leader", clock=clock, recheck=2
    )
    assert result.done
    assert probe.calls == [0, 2, 4, 6, 8, 9]


def test_stable_lenient_times_out_when_it_keeps_flapping():
    clock = ManualClock()

    def answer(now: float) -> Progress:
        up = int(now) % 6 < 3
        return Progress(up, "leader zk-1" if up else "no leader")

    with pytest.raises(WaitTimeout) as caught:
        wait_until_stable(
            Probe(clock, answer), 5, timeout=12, description="one leader", clock=clock, recheck=1
        )
    assert caught.value.description == "one leader to hold for 5.0s"
    assert "timed out after 12.0s" in str(caught.value)
