"""The fixtures: ``settings``, ``cluster``, ``deployed_ensemble`` and ``drill``.

``drill`` is what a drill takes: a fresh ``harness.drilling.Drill`` (its own pod watcher,
step recorder, ZooKeeper access and faults) on the session's ensemble. It checks the
steady state before the drill and, for a ``destructive`` drill, starts the workload. After
the drill it undoes the drill's faults and checks the cluster is as it found it, checks
the steady state again (a drill that leaves the ensemble unhealthy fails, and the ensemble
is repaired for the next one), and judges the workload: no acknowledged write lost on any
server, a linearizable register history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from harness.errors import DrillFailure, HarnessError
from harness.plugin.markers import DRILL_MARKERS
from harness.plugin.repair import ClusterBefore, faults_factory, restore_and_check
from harness.plugin.session import RECORD_KEY, get_session
from harness.settings import Settings
from harness.steps import DrillRecord, DrillRecorder, first_line

if TYPE_CHECKING:
    from harness.drilling import Drill
    from harness.ensemble import Ensemble
    from harness.kube.client import Cluster

USAGE_ERROR = int(pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings (command line > ini > ZKDRILL_* environment > defaults)."""
    return get_session(pytestconfig).settings


@pytest.fixture(scope="session")
def cluster(pytestconfig: pytest.Config) -> Cluster:
    """The cluster facade (localkube started on first use with --cluster=local)."""
    try:
        return get_session(pytestconfig).cluster()
    except HarnessError as exc:  # ConfigError included
        pytest.exit(f"zkdrill: {exc}", returncode=USAGE_ERROR)


@pytest.fixture(scope="session")
def deployed_ensemble(pytestconfig: pytest.Config, cluster: Cluster) -> Iterator[Ensemble]:
    """The ensemble, deployed once for the session and deleted at its end (unless --keep)."""
    session = get_session(pytestconfig)
    try:
        ensemble = session.ensemble()
    except HarnessError as exc:  # e.g. --use-existing naming a StatefulSet that is not there
        pytest.exit(f"zkdrill: {exc}", returncode=USAGE_ERROR)
    yield ensemble
    session.teardown_ensemble()


@pytest.fixture
def drill(
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
    deployed_ensemble: Ensemble,
    cluster: Cluster,
) -> Iterator[Drill]:
    """This drill's ``Drill``, in the steady state; restored and checked when it ends."""
    from harness.drilling import Drill

    session = get_session(request.config)
    markers = sorted({m.name for m in request.node.iter_markers()} & set(DRILL_MARKERS))
    record = DrillRecord(request.node.nodeid, request.node.name, markers)
    session.run.drills.append(record)
    request.node.stash[RECORD_KEY] = record
    recorder = DrillRecorder(record, add_property=record_property)
    recorder.observers.extend(session.step_observers)
    made = Drill(deployed_ensemble, recorder,
                 faults_factory=faults_factory(session.settings, cluster,
                                               session.node_commands(),
                                               own_run=session.own_run))
    if session.pod_listener is not None:
        made.pods.add_listener(session.pod_listener)
    try:
        before = ClusterBefore.of(cluster, made.target.statefulset)
        made.steady_state("at start")
        if request.node.get_closest_marker("destructive") is not None:
            made.start_workload()
        try:
            yield made
        finally:
            restore_and_check(made, cluster, before)
        _check_left_healthy(made)
        made.finish_workload()
    finally:
        made.close()


def _check_left_healthy(drill: Drill) -> None:
    try:
        drill.steady_state("at end")
    except (HarnessError, AssertionError) as exc:
        try:
            drill.repair()
            outcome = "it was repaired for the next drill"
        except (HarnessError, AssertionError) as again:
            outcome = f"repairing it failed too: {first_line(again)}"
        raise DrillFailure(
            f"the drill left the ensemble unhealthy ({first_line(exc)}); {outcome}"
        ) from exc
