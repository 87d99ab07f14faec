"""pytest glue for the disruption drills: safety, the journal's replay, ``--zkdrill-repair``,
and the ``faults`` fixture. Registered next to ``harness.plugin`` in ``pytest_plugins``.

- After collection, before the cluster is contacted: destructive drills selected against a
  real cluster without the opt-in end the run with one usage-error line (``harness.safety``).
- Once the cluster is connected and before any test runs: entries a killed run left in the
  journal are undone (only runs no longer alive on this host), and the run says so.
- ``pytest --zkdrill-repair [--cluster=kube --context=...]``: the same undo, then exit.
- ``faults``: a drill's ``harness.faults.Faults``; at the end it undoes whatever the drill
  left, then asserts that no node is cordoned that was not before and that the StatefulSet's
  pod template equals the manifest's.

Ctrl-C and pytest-timeout interrupt a drill with an exception, so the fault context managers
and this fixture's teardown run; undos run ``shielded`` so a second signal waits for them.
pytest-timeout must use its ``signal`` method for that (``thread`` kills the process without
cleanup; the journal's replay is then the only repair): this plugin warns when it does not.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import ConfigError, DrillFailure, HarnessError
from harness.fixtures import get_session
from harness.journal import ConfigMapStore, Journal, Outcome, Owner
from harness.safety import MARKER, active_context, refusal, require_destructive

if TYPE_CHECKING:
    from harness.ensemble import Ensemble
    from harness.faults import Faults
    from harness.kube.client import Cluster
    from harness.steps import DrillRecorder

REPAIR_FLAG = "--zkdrill-repair"
USAGE_ERROR = int(pytest.ExitCode.USAGE_ERROR)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zkdrill", "zkdrill: ZooKeeper drills on Kubernetes")
    group.addoption(
        REPAIR_FLAG, action="store_true", default=False, dest="zkdrill_repair",
        help="undo what an interrupted zkdrill run left on the cluster (cordoned nodes, "
             "patched StatefulSet templates, removed files), then exit",
    )


def pytest_configure(config: pytest.Config) -> None:
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
        cluster = state.cluster()
        outcomes, live = replay(cluster, state.settings.timeouts)
        rolled = _wait_rolled_out(cluster, outcomes, state.settings.timeouts.rollout)
    except (ConfigError, HarnessError) as exc:
        pytest.exit(f"zkdrill: {REPAIR_FLAG} failed: {exc}", returncode=1)
    lines = [o.describe() for o in outcomes] + rolled + [
        f"left alone (its run is still alive): {e.describe()}" for e in live]
    for line in lines or ["the journal is empty: nothing to repair"]:
        _say(config, f"zkdrill repair: {line}")
    failed = [o for o in outcomes if not o.ok]
    pytest.exit(f"{REPAIR_FLAG}: {len(outcomes) - len(failed)} undone, {len(failed)} failed",
                returncode=1 if failed else 0)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse destructive drills on a real cluster without the opt-in (nothing touched yet)."""
    config = session.config
    if config.option.collectonly:
        return
    chosen = [item.nodeid for item in session.items if item.get_closest_marker(MARKER)]
    try:
        why = refusal(get_session(config).settings, chosen)
    except ConfigError as exc:
        raise pytest.UsageError(f"zkdrill: {exc}") from None
    if why:
        raise pytest.UsageError(f"zkdrill: {why}")


@pytest.hookimpl(trylast=True, wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[None]:
    """Before the first test: undo what a killed run left in this namespace's journal."""
    config = session.config
    needs_cluster = any("cluster" in getattr(item, "fixturenames", ()) for item in session.items)
    if needs_cluster and not config.option.collectonly and session.items:
        state = get_session(config)
        try:
            outcomes, live = replay(state.cluster(), state.settings.timeouts)
        except (ConfigError, HarnessError) as exc:
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
        timeout = state.settings.timeouts.rollout
        try:
            for line in _wait_rolled_out(state.cluster(), outcomes, timeout):
                _say(config, f"zkdrill: {line}")
        except HarnessError as exc:
            raise pytest.UsageError(f"zkdrill: after restoring a template: {exc}") from None
    return (yield)


def replay(cluster: Cluster, timeouts: Any) -> tuple[list[Outcome], list[Any]]:
    """Undo the entries of runs that are over; return outcomes and the live runs' entries."""
    from harness.faults import undoers

    journal = Journal(ConfigMapStore(cluster.transport, cluster.namespace),
                      Owner.current(f"replay{uuid.uuid4().hex[:8]}"))
    leftovers, live = journal.leftovers()
    return journal.undo_all(leftovers, undoers(cluster, timeouts)), live


def _wait_rolled_out(cluster: Cluster, outcomes: list[Outcome], timeout: float) -> list[str]:
    """After restoring templates, wait until their pods are all back on the restored one."""
    from harness.disruption import rollout_settled
    from harness.kube.objects import label_selector
    from harness.waits import wait_for

    lines = []
    for name in sorted({o.entry.undo["statefulset"] for o in outcomes
                        if o.ok and o.entry.kind == "template"}):
        sts = cluster.statefulset(name)
        if sts is None:
            continue
        selector = label_selector(sts["spec"]["selector"].get("matchLabels") or {})
        watcher = cluster.watch_pods(selector)  # wakes the wait on every pod change
        try:
            done = wait_for(rollout_settled(cluster, name, watcher.subscribe()),
                            timeout=timeout, recheck=2.0)
        finally:
            watcher.stop()
        lines.append(f"statefulset {name}: {done.detail}")
    return lines


@pytest.fixture
def faults(
    ensemble: Ensemble, cluster: Cluster, step: DrillRecorder, pytestconfig: pytest.Config
) -> Iterator[Faults]:
    """The drill's faults, journaled; everything is undone and checked when the drill ends."""
    from harness.faults import Faults
    from harness.kube.drain import is_cordoned

    settings = get_session(pytestconfig).settings
    if settings.cluster != "local":
        require_destructive(settings, active_context(settings))
    journal = Journal(ConfigMapStore(cluster.transport, cluster.namespace),
                      Owner.current(ensemble.run_id))
    made = Faults(cluster, journal, container=ensemble.target.container,
                  restart_command=("pkill", ensemble.profile.process_name),
                  timeouts=settings.timeouts, events=lambda: ensemble.pods.subscribe(),
                  log=step.command)
    cordoned_before = {n["metadata"]["name"] for n in cluster.nodes() if is_cordoned(n)}
    live = cluster.statefulset(ensemble.target.statefulset)
    if live is None:
        raise DrillFailure(f"statefulset {ensemble.target.statefulset} does not exist")
    template_before = live["spec"]["template"]
    yield made
    with step("undo every fault; no node left cordoned; the template is the manifest's"):
        failed = [o for o in made.restore_all() if not o.ok]
        problems = [o.describe() for o in failed]
        problems += [f"journal entry still open: {e.describe()}" for e in journal.mine()]
        cordoned = {n["metadata"]["name"] for n in cluster.nodes() if is_cordoned(n)}
        problems += [f"node/{n} is cordoned and was not before the drill"
                     for n in sorted(cordoned - cordoned_before)]
        problems += _template_problems(cluster, ensemble, template_before)
        if not problems:
            _settle(made, ensemble, settings.timeouts.rollout)
        step.note("cluster restored", not problems, "; ".join(problems) or "as before the drill")
        if problems:
            raise DrillFailure("the drill did not leave the cluster as it found it: "
                               + "; ".join(problems))


def _settle(made: Faults, ensemble: Ensemble, timeout: float) -> None:
    """Pods of an abandoned revision are replaced before the ensemble's end check looks."""
    from harness.disruption import rollout_settled
    from harness.waits import wait_for

    for name in sorted(made.patched):
        events = ensemble.pods.subscribe() if ensemble.pods else None
        wait_for(rollout_settled(made.cluster, name, events), timeout=timeout, recheck=2.0)


def _template_problems(cluster: Cluster, ensemble: Ensemble, before: dict[str, Any]) -> list[str]:
    from harness.faults import manifest_drift

    name = ensemble.target.statefulset
    if ensemble.manifest is not None:
        drift = manifest_drift(cluster, ensemble.manifest.statefulset(name))
        return [drift] if drift else []
    live = cluster.statefulset(name)
    if live is None or live["spec"]["template"] != before:
        return [f"statefulset {name}: the pod template differs from the one the drill found"]
    return []


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
    else:
        print(line)
