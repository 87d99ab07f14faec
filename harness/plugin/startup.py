"""What happens between collection and the first test: safety, connection, replay.

- ``--zkdrill-repair``: replay the journal (what killed runs left), wait for restored
  templates to roll out, say what was done, exit. On a real cluster it needs the
  destructive opt-in (one line and exit 4 without).
- After collection, before the cluster is contacted: destructive drills selected against a
  real cluster without the opt-in end the run with one usage-error line
  (``harness.safety``); then, if a selected test needs the cluster, connect (and start
  localkube) so a configuration problem is one line before any test runs (also
  ``--use-existing`` naming a StatefulSet that is not there).
- Before the first test: entries a killed run left in the journal are undone (only runs
  whose Lease is gone or expired), and the run says so. On a real cluster without the
  destructive opt-in nothing is undone: one line says who left what and how to repair, and
  the run goes on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.errors import ConfigError, HarnessError, SafetyRefusal
from harness.plugin.options import REPAIR_FLAG
from harness.plugin.repair import pending, replay, unfinished_line, wait_rolled_out
from harness.plugin.session import get_session
from harness.safety import MARKER, active_context, refusal
from harness.settings import Settings


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if not config.getoption("zkdrill_repair"):
        return
    state = get_session(config)
    if state.settings.cluster == "local":
        _say(config, f"zkdrill: {REPAIR_FLAG}: nothing to repair on --cluster=local "
                     "(localkube starts empty on every run)")
        pytest.exit("nothing to repair", returncode=0)
    try:
        context = active_context(state.settings)
        state.settings.check_destructive(context)
    except SafetyRefusal as exc:  # undoing changes is changing the cluster
        raise pytest.UsageError(f"zkdrill: {REPAIR_FLAG} refused: {exc.message}; add "
                                f"--allow-destructive --confirm-context={context}") from None
    except ConfigError as exc:
        raise pytest.UsageError(f"zkdrill: {REPAIR_FLAG}: {exc}") from None
    try:
        cluster = state.cluster()
        outcomes, live = replay(cluster, state.settings.timeouts)
        rolled = wait_rolled_out(cluster, outcomes, state.settings.timeouts.rollout)
    except (ConfigError, HarnessError) as exc:
        pytest.exit(f"zkdrill: {REPAIR_FLAG} failed: {exc}", returncode=1)
    lines = [o.describe() for o in outcomes] + rolled + [
        f"left alone (its run is still alive): {e.describe()}" for e in live]
    for line in lines or ["the journal is empty: nothing to repair"]:
        _say(config, f"zkdrill repair: {line}")
    failed = [o for o in outcomes if not o.ok]
    pytest.exit(f"{REPAIR_FLAG}: {len(outcomes) - len(failed)} undone, {len(failed)} failed",
                returncode=1 if failed else 0)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse unarmed destructive drills, then connect if a selected test needs the cluster."""
    config = session.config
    if config.option.collectonly:
        return
    state = get_session(config)
    chosen = [item.nodeid for item in session.items if item.get_closest_marker(MARKER)]
    try:
        why = refusal(state.settings, chosen)
    except ConfigError as exc:
        raise pytest.UsageError(f"zkdrill: {exc}") from None
    if why:
        raise pytest.UsageError(f"zkdrill: {why}")
    upgrades = [i for i in session.items if i.get_closest_marker("upgrade")]
    if upgrades and state.settings.cluster != "local" and not state.settings.upgrade_image:
        raise pytest.UsageError("zkdrill: the upgrade drill needs --upgrade-image on a real "
                                "cluster (fix: name the image to upgrade to, e.g. "
                                "--upgrade-image=zookeeper:3.9.3, or leave it out with "
                                "-m 'not upgrade')")
    if not any("cluster" in getattr(i, "fixturenames", ()) for i in session.items):
        return
    try:
        cluster = state.cluster()
        s = state.settings
        if s.use_existing and cluster.statefulset(s.statefulset) is None:
            raise ConfigError(
                f"--use-existing: statefulset {cluster.namespace}/{s.statefulset} not found on "
                f"context {cluster.context!r}",
                hint="check --namespace/--statefulset, or drop --use-existing to deploy")
    except HarnessError as exc:  # ConfigError (bad input) or localkube failing to start
        raise pytest.UsageError(f"zkdrill: {exc}") from None


@pytest.hookimpl(trylast=True, wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[None]:
    """Before the first test: undo what a killed run left in this namespace's journal."""
    config = session.config
    needs_cluster = any("cluster" in getattr(item, "fixturenames", ()) for item in session.items)
    if needs_cluster and not config.option.collectonly and session.items:
        state = get_session(config)
        armed, context = _armed(state.settings)
        if armed:
            _replay(config)
        else:  # a real cluster without the opt-in: say what is left and how, touch nothing
            try:
                leftovers, live = pending(state.cluster())
            except HarnessError as exc:
                raise pytest.UsageError(f"zkdrill: could not read the journal: {exc}") from None
            if leftovers:
                _say(config, unfinished_line(leftovers, state.settings, context))
            for entry in live:
                _say(config, f"zkdrill: left alone (its run is still alive): {entry.describe()}")
    return (yield)


def _replay(config: pytest.Config) -> None:
    state = get_session(config)
    try:
        outcomes, live = replay(state.cluster(), state.settings.timeouts)
    except HarnessError as exc:  # ConfigError included
        raise pytest.UsageError(f"zkdrill: could not read the journal: {exc}") from None
    for outcome in outcomes:
        _say(config, f"zkdrill: an earlier run was interrupted; {outcome.describe()}")
    for entry in live:
        _say(config, f"zkdrill: left alone (its run is still alive): {entry.describe()}")
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise pytest.UsageError(
            "zkdrill: could not undo what an interrupted run left: "
            + "; ".join(o.describe() for o in failed)
            + f" (try: pytest {REPAIR_FLAG} with the same --cluster/--context/--namespace)")
    try:
        for line in wait_rolled_out(state.cluster(), outcomes, state.settings.timeouts.rollout):
            _say(config, f"zkdrill: {line}")
    except HarnessError as exc:
        raise pytest.UsageError(f"zkdrill: after restoring a template: {exc}") from None


def _armed(settings: Settings) -> tuple[bool, str]:
    """May this run undo what others left (localkube, or the destructive opt-in)?"""
    if settings.cluster == "local":
        return True, ""
    context = active_context(settings)
    try:
        settings.check_destructive(context)
    except SafetyRefusal:
        return False, context
    return True, context


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
    else:
        print(line)
