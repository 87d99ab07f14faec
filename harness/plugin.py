"""zkdrill's pytest plugin: thin glue between pytest and the harness.

- options: one ``zkdrill`` group generated from ``harness.settings.OPTIONS``, each option with
  an ini twin (``zkdrill_<key>``) and a ``ZKDRILL_<KEY>`` environment fallback; resolved once
  into a frozen ``Settings`` and printed in the report header;
- markers: one per drill (plus ``destructive`` and ``slow``), registered here;
- pytest-timeout: each drill gets a backstop longer than the harness's own waits;
- fixtures: ``settings``, ``cluster``, ``ensemble``, ``zk``, ``step`` (``harness.fixtures``);
- reports: JUnit XML into ``--report-dir`` by default, the JSON and HTML pages at the end.

Bad input (an unknown ``--cluster``, an unreadable kubeconfig, a missing context or
namespace, an unreachable API, a malformed manifest, localkube's preflight) ends the run
with one ``ERROR: zkdrill: ...`` line and exit status 4, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError, HarnessError
from harness.fixtures import (
    DRILL_MARKERS,
    OTHER_MARKERS,
    RECORD_KEY,
    SESSION_KEY,
    Session,
    cluster,
    deployed_ensemble,
    ensemble,
    get_session,
    settings,
    step,
    zk,
)
from harness.report import write_reports
from harness.settings import OPTIONS, Option, Settings
from harness.steps import now

__all__ = ["cluster", "deployed_ensemble", "ensemble", "settings", "step", "zk"]


def _dest(opt: Option) -> str:
    return f"zkdrill_{opt.key}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zkdrill", "zkdrill: ZooKeeper drills on Kubernetes")
    for opt in OPTIONS:
        twins = "" if opt.cli_only else f"; ini {opt.ini}, env {opt.env}"
        help_text = f"{opt.help} (default: {opt.default}{twins})"
        if opt.kind == "flag":
            group.addoption(
                opt.flag, action="store_true", default=None, dest=_dest(opt), help=help_text
            )
        else:
            metavar = "DURATION" if opt.key.startswith("timeout_") else opt.key.upper()
            group.addoption(
                opt.flag,
                action="store",
                default=None,
                dest=_dest(opt),
                metavar=metavar,
                help=help_text,
            )
        if opt.ini:
            parser.addini(opt.ini, help=f"{opt.help} (as {opt.flag})", type="string", default="")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, text in (DRILL_MARKERS | OTHER_MARKERS).items():
        config.addinivalue_line("markers", f"{name}: {text}")
    cli = {opt.key: config.getoption(_dest(opt)) for opt in OPTIONS}
    ini = {opt.key: config.getini(opt.ini) for opt in OPTIONS if opt.ini}
    try:
        resolved = Settings.from_sources(cli, ini, os.environ)
        report_dir = config.invocation_params.dir / resolved.report_dir
        session = Session(resolved, report_dir)
    except ConfigError as exc:
        raise pytest.UsageError(f"zkdrill: {exc}") from None
    config.stash[SESSION_KEY] = session
    if not getattr(config.option, "xmlpath", None) and not hasattr(config, "workerinput"):
        config.option.xmlpath = str(report_dir / f"{session.run.stem}.xml")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return get_session(config).settings.describe()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every drill a pytest-timeout backstop the harness's own waits fit inside."""
    t = get_session(config).settings.timeouts
    backstop = 3 * t.rollout + 2 * t.step
    for item in items:
        is_drill = any(item.get_closest_marker(name) for name in DRILL_MARKERS)
        if is_drill and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(backstop))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Connect (and start localkube) now if a selected test needs the cluster, so that a
    configuration problem is one line before any test runs."""
    config = session.config
    if config.option.collectonly or not any(
        "cluster" in getattr(i, "fixturenames", ()) for i in session.items
    ):
        return
    try:
        get_session(config).cluster()
    except HarnessError as exc:  # ConfigError (bad input) or localkube failing to start
        raise pytest.UsageError(f"zkdrill: {exc}") from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
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
    if state is None or not (state.report_files or state.run.teardown):
        return
    terminalreporter.section("zkdrill")
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
