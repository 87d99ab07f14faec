"""Reports: each drill's outcome onto its record, the files at the end, the summary table.

JUnit XML goes into ``--report-dir`` by default (with the per-step properties the recorder
attaches); a drill failed by a 403 (the run's identity lacks a permission) is reported as one
line naming the verb and resource, and the run stops there; the JSON timeline and the HTML
page are written when the session finishes; the terminal ends with one row per drill
(outcome, steps, time, the workload's writes, lost writes and longest write gap) and the
report paths. With the live transcript on, each
drill's header line is printed as it starts.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.plugin.session import RECORD_KEY, SESSION_KEY, get_session
from harness.plugin.transcript import Transcript, wanted
from harness.report import summary_table, write_reports
from harness.steps import now

TRANSCRIPT_KEY = pytest.StashKey[Transcript]()
BAD_INPUT_KEY = pytest.StashKey[str]()


def start_transcript(config: pytest.Config) -> None:
    """Hook the live transcript into the session's recorders and pod watchers, if wanted."""
    if not wanted(config):
        return
    transcript = Transcript(config)
    config.stash[TRANSCRIPT_KEY] = transcript
    session = get_session(config)
    session.step_observers.append(transcript.on_step)
    session.pod_listener = transcript.on_pod


def pytest_runtest_setup(item: pytest.Item) -> None:
    transcript = item.config.stash.get(TRANSCRIPT_KEY, None)
    if transcript is not None:
        transcript.test_started()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    error = call.excinfo.value if call.excinfo is not None else None
    forbidden = _forbidden(error)
    if forbidden is not None and report.failed:
        # a missing permission fails every drill that needs it: one line, and stop the run
        line = f"zkdrill: {forbidden}"
        report.longrepr = line
        item.session.shouldstop = line
    elif isinstance(error, ConfigError) and report.failed:
        # bad input found only once a drill ran (a node stop command that fails): one line,
        # the run stops, and it ends with the usage-error status
        line = f"zkdrill: {error}"
        report.longrepr = line
        item.session.shouldstop = line
        item.config.stash[BAD_INPUT_KEY] = line
    record = item.stash.get(RECORD_KEY, None)
    if record is None:
        return report
    message = _crash_message(report)
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.skipped:
            record.outcome = "skipped"
        elif report.failed:
            record.outcome = "failed" if report.when == "call" else "error"
        else:
            record.outcome = "passed"
        record.message = message
    elif report.when == "teardown":
        if report.failed:
            record.message = "\n".join(m for m in (record.message, f"at teardown: {message}") if m)
            if record.outcome == "passed":
                record.outcome = "error"
        record.ended = now()
    return report


def _forbidden(exc: BaseException | None) -> BaseException | None:
    """The 403 (``harness.kube.transport.Forbidden``) behind ``exc``, if any."""
    seen = 0
    while exc is not None and seen < 10:
        if any(c.__name__ == "Forbidden" and c.__module__ == "harness.kube.transport"
               for c in type(exc).__mro__):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if BAD_INPUT_KEY in session.config.stash:
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
    state = session.config.stash.get(SESSION_KEY, None)
    if state is None:
        return
    try:
        state.close()
    finally:
        state.run.ended = now()
        state.run.exit_status = int(exitstatus)
        if state.run.has_content:
            state.report_files = write_reports(state.run, state.report_dir)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is None or not (state.report_files or state.run.teardown or state.run.drills):
        return
    terminalreporter.section("zkdrill")
    if state.run.drills:
        for line in summary_table(state.run.drills):
            terminalreporter.write_line(line)
    for line in state.run.teardown:
        terminalreporter.write_line(line)
    for path in state.report_files:
        terminalreporter.write_line(f"report: {_relative(path)}")


def _crash_message(report: pytest.TestReport) -> str:
    if report.passed:
        return ""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, reason)
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(longrepr or "").strip().splitlines()[-1] if longrepr else ""


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
