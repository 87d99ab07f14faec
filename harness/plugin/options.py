"""Options, markers and settings: from the command line, ini and environment to ``Settings``.

- one ``zkdrill`` option group generated from ``harness.settings.OPTIONS``, each option with
  an ini twin (``zkdrill_<key>``) and a ``ZKDRILL_<KEY>`` environment fallback, plus the
  plugin's own flags (``--zkdrill-repair``, ``--transcript``);
- resolved once into a frozen ``Settings`` (bad input: one usage-error line, exit 4) and
  printed in the report header;
- markers registered here, and each drill given a pytest-timeout backstop (signal method,
  so a timed-out drill still undoes its faults) longer than the harness's own waits.
"""

from __future__ import annotations

import os
import warnings

import pytest

from harness.errors import ConfigError
from harness.plugin.markers import DRILL_MARKERS, OTHER_MARKERS
from harness.plugin.reporting import start_transcript
from harness.plugin.session import SESSION_KEY, Session, get_session
from harness.settings import OPTIONS, Option, Settings

REPAIR_FLAG = "--zkdrill-repair"
TRANSCRIPT_FLAG = "--transcript"


def _dest(opt: Option) -> str:
    return f"zkdrill_{opt.key}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zkdrill", "zkdrill: ZooKeeper drills on Kubernetes")
    for opt in OPTIONS:
        twins = "" if opt.cli_only else f"; ini {opt.ini}, env {opt.env}"
        help_text = f"{opt.help} (default: {opt.default}{twins})"
        if opt.kind == "flag":
            group.addoption(opt.flag, action="store_true", default=None, dest=_dest(opt),
                            help=help_text)
        else:
            metavar = "DURATION" if opt.key.startswith("timeout_") else opt.key.upper()
            group.addoption(opt.flag, action="store", default=None, dest=_dest(opt),
                            metavar=metavar, help=help_text)
        if opt.ini:
            parser.addini(opt.ini, help=f"{opt.help} (as {opt.flag})", type="string", default="")
    group.addoption(
        REPAIR_FLAG, action="store_true", default=False, dest="zkdrill_repair",
        help="undo what an interrupted zkdrill run left on the cluster (cordoned nodes, "
             "patched StatefulSet templates, removed files), then exit",
    )
    group.addoption(
        TRANSCRIPT_FLAG, action="store", default="auto", dest="zkdrill_transcript",
        choices=("auto", "on", "off"),
        help="print each drill step and pod transition as it happens (auto: on with -v)",
    )


# What the harness relies on, whichever ini file pytest found (a path argument such as
# `--report-dir /var/reports` moves pytest's rootdir away from pyproject.toml): per-test
# JUnit properties need xunit1 ("legacy" is the same); unknown markers must fail.
REQUIRED_INI = {"junit_family": ("xunit1", ("xunit1", "legacy")),
                "strict_markers": (True, (True,))}


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, text in (DRILL_MARKERS | OTHER_MARKERS).items():
        config.addinivalue_line("markers", f"{name}: {text}")
    for name, (value, accepted) in REQUIRED_INI.items():
        if config.getini(name) not in accepted:
            config._inicache[name] = value  # read back through getini by junitxml and mark
    cli = {opt.key: _from_command_line(config, opt) for opt in OPTIONS}
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
    _warn_unless_signal_timeouts(config)
    start_transcript(config)


def _from_command_line(config: pytest.Config, opt: Option) -> object:
    """The option's value; for the safety options only if typed on the command line that
    started pytest (``PYTEST_ADDOPTS`` and ini ``addopts`` land in the same parsed options,
    and must never arm destructive drills)."""
    value = config.getoption(_dest(opt))
    if not opt.cli_only or value is None:
        return value
    typed = [str(a) for a in config.invocation_params.args]
    if any(a == opt.flag or a.startswith(opt.flag + "=") for a in typed):
        return value
    return None


def _warn_unless_signal_timeouts(config: pytest.Config) -> None:
    try:
        method = config.getoption("timeout_method", None) or config.getini("timeout_method")
    except ValueError:  # pytest-timeout not installed: no timeouts to worry about
        return
    if str(method or "signal") != "signal":
        warnings.warn(
            f"pytest-timeout uses the {method!r} method: a drill that times out is killed "
            "without undoing its faults (the next run replays the journal); use "
            "--timeout-method=signal", stacklevel=1,
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    return get_session(config).settings.describe()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every drill is ``slow`` (it needs a cluster: the quick tier is ``-m "not slow"``) and
    gets a pytest-timeout backstop the harness's own waits fit inside. Runs before ``-m``
    selects, so the added marker counts."""
    t = get_session(config).settings.timeouts
    backstop = 3 * t.rollout + 2 * t.step
    for item in items:
        if not any(item.get_closest_marker(name) for name in DRILL_MARKERS):
            continue
        item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(backstop, method="signal"))
