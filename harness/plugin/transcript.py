"""The live transcript: each step as it starts and ends, each pod transition as it happens.

With ``-v`` (or ``--transcript=on``) a person running ``pytest -m drain`` sees what the
drill is doing instead of a row of dots: step lines, and every pod event as
``kubectl get pods -w`` prints it, with the receiving time and the node. Pod events arrive
on the watch thread, so lines go out under one lock, with pytest's output capture suspended
around each write (as pytest's own live logging does).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from harness.steps import StepRecord
from harness.timeline import PodEvent

MARKS = {"passed": "ok", "failed": "FAILED", "skipped": "skipped"}


def step_line(what: str, step: StepRecord) -> str:
    """``  > 3. kubectl drain node-1`` / ``  < 3. ok in 0.31s`` (``FAILED: why``)."""
    if what == "start":
        return f"  > {step.index}. {step.name}"
    outcome = MARKS.get(step.outcome, step.outcome)
    tail = f": {step.message}" if step.message else ""
    return f"  < {step.index}. {outcome} in {step.duration:.2f}s{tail}"


def pod_line(event: PodEvent) -> str:
    """``      12:04:54.095 MODIFIED zk-0 0/1 Error 0 node-1``."""
    return f"      {event.row()} {event.pod.node or ''}".rstrip()


class Transcript:
    """Writes transcript lines to the terminal, from any thread."""

    def __init__(self, config: pytest.Config) -> None:
        self._plugins = config.pluginmanager  # the terminal reporter registers after us
        self._lock = threading.Lock()
        self._fresh_line = False

    def on_step(self, what: str, step: StepRecord) -> None:
        self.write(step_line(what, step))

    def on_pod(self, event: PodEvent) -> None:
        self.write(pod_line(event))

    def write(self, line: str) -> None:
        reporter: Any = self._plugins.get_plugin("terminalreporter")
        capture: Any = self._plugins.get_plugin("capturemanager")
        if reporter is None:
            return
        with self._lock:
            if capture is not None:
                with capture.global_and_fixture_disabled():
                    self._emit(reporter, line)
            else:
                self._emit(reporter, line)

    def _emit(self, reporter: Any, line: str) -> None:
        if not self._fresh_line:
            reporter.write_line("")
            self._fresh_line = True
        reporter.write_line(line)

    def test_started(self) -> None:
        with self._lock:
            self._fresh_line = False


def wanted(config: pytest.Config) -> bool:
    choice = config.getoption("zkdrill_transcript", "auto")
    if choice == "auto":
        return config.getoption("verbose", 0) > 0
    return choice == "on"
