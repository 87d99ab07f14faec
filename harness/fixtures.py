"""The session runtime and the fixtures drills use: settings, cluster, ensemble, zk, step.

``Session`` owns what lives for the whole run: the settings, localkube (for
``--cluster=local``), the connection, the deployed ensemble and the run record. It starts
nothing until a selected test needs the cluster, so ``pytest tests/`` never starts localkube.
The function-scoped fixtures give each drill its own recorder (``step``) and pod watcher,
and check the steady state when the drill starts and again when it ends: a drill that leaves
the ensemble unhealthy fails, and the ensemble is repaired for the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.errors import DrillFailure, HarnessError
from harness.report import RunRecord
from harness.settings import Settings
from harness.steps import DrillRecord, DrillRecorder, first_line, now
from harness.zk.profile import ImageProfile, get_profile

if TYPE_CHECKING:  # the kube layer (kubernetes, kazoo) loads only when a drill needs it
    from harness.ensemble import Ensemble
    from harness.kube.apply import Manifest
    from harness.kube.client import Cluster
    from harness.localkube_process import LocalkubeProcess
    from harness.servers import ZooKeeper

USAGE_ERROR = int(pytest.ExitCode.USAGE_ERROR)
RECORD_KEY = pytest.StashKey[DrillRecord]()


class Session:
    """Everything that lives for one pytest session."""

    def __init__(self, settings: Settings, report_dir: Path) -> None:
        self.settings = settings
        self.report_dir = report_dir
        self.profile: ImageProfile = get_profile(settings.zk_profile)
        self.run = RunRecord(settings)
        self.localkube: LocalkubeProcess | None = None
        self.report_files: list[Path] = []
        self._cluster: Cluster | None = None
        self._manifest: Manifest | None = None
        self._ensemble: Ensemble | None = None

    def manifest(self) -> Manifest | None:
        """The manifest to deploy (None with ``--use-existing``); checked on first use."""
        if self.settings.use_existing:
            return None
        if self._manifest is None:
            from harness.kube.apply import Manifest

            manifest = Manifest.load(
                self.settings.manifest, image=self.settings.image, container=self.profile.container
            )
            manifest.statefulset(self.settings.statefulset)
            self._manifest = manifest
        return self._manifest

    def cluster(self) -> Cluster:
        """Connect (starting localkube first for ``--cluster=local``); ``ConfigError`` if not."""
        if self._cluster is None:
            from harness.kube.client import connect
            from harness.localkube_process import LocalkubeProcess

            self.manifest()  # a broken manifest fails before anything starts
            s = self.settings
            if s.cluster == "local":
                if self.localkube is None:
                    self.localkube = LocalkubeProcess(nodes=s.localkube_nodes).start()
                    self.run.localkube = self.localkube.describe()
                self._cluster = connect(
                    self.localkube.kubeconfig, None, s.namespace, create_namespace=True, local=True
                )
            else:
                self._cluster = connect(s.kubeconfig, s.context, s.namespace)
            self.run.cluster = self._cluster.describe()
        return self._cluster

    def ensemble(self) -> Ensemble:
        """Deploy (or adopt) the ensemble once, recorded as the run's setup."""
        if self._ensemble is None:
            from harness.ensemble import Ensemble

            ensemble = Ensemble(self.cluster(), self.settings, self.profile, self.manifest())
            record = DrillRecord("session setup", "deploy the ensemble", [])
            self.run.setup = record
            try:
                ensemble.deploy(DrillRecorder(record))
            except BaseException as exc:
                record.outcome, record.message = "failed", str(exc)
                raise
            finally:
                record.ended = now()
            record.outcome = "passed"
            self._ensemble = ensemble
        return self._ensemble

    def teardown_ensemble(self) -> None:
        ensemble, self._ensemble = self._ensemble, None
        if ensemble is None:
            return
        ensemble.servers.close()
        if self.settings.keep or self.settings.use_existing:
            flag = "--keep" if self.settings.keep else "--use-existing"
            self.run.teardown.append(f"{flag}: the ensemble was left as it is")
            return
        try:
            deleted = ensemble.teardown()
        except HarnessError as exc:
            self.run.teardown.append(f"could not delete the ensemble: {exc}")
            return
        self.run.teardown.append("deleted " + (", ".join(deleted) if deleted else "nothing"))

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        if self.localkube is not None:
            if self.settings.keep:
                self.run.teardown.append(
                    f"--keep: localkube left running; KUBECONFIG={self.localkube.kubeconfig}; "
                    f"stop it with: python -m localkube down --state-dir "
                    f"{self.localkube.state_dir / 'state'}"
                )
            else:
                code = self.localkube.stop()
                self.run.teardown.append(f"stopped localkube (exit {code})")
            self.localkube = None


SESSION_KEY = pytest.StashKey[Session]()


def get_session(config: pytest.Config) -> Session:
    return config.stash[SESSION_KEY]


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
    yield session.ensemble()
    session.teardown_ensemble()


@pytest.fixture
def step(
    request: pytest.FixtureRequest, record_property: Callable[[str, object], None]
) -> DrillRecorder:
    """``with step("delete the StatefulSet"):`` records the drill's steps."""
    markers = sorted({m.name for m in request.node.iter_markers()} & set(DRILL_MARKERS))
    record = DrillRecord(request.node.nodeid, request.node.name, markers)
    get_session(request.config).run.drills.append(record)
    request.node.stash[RECORD_KEY] = record
    return DrillRecorder(record, add_property=record_property)


@pytest.fixture
def ensemble(deployed_ensemble: Ensemble, step: DrillRecorder) -> Iterator[Ensemble]:
    """The ensemble in its steady state, watched for this drill; checked again at the end."""
    deployed_ensemble.attach(step)
    try:
        deployed_ensemble.steady_state("at start")
        yield deployed_ensemble
        _check_left_healthy(deployed_ensemble)
    finally:
        deployed_ensemble.detach()


@pytest.fixture
def zk(ensemble: Ensemble) -> ZooKeeper:
    """Each ZooKeeper server through its port-forward relay; reads are per server, synced."""
    assert ensemble.zk is not None
    return ensemble.zk


def _check_left_healthy(ensemble: Ensemble) -> None:
    try:
        ensemble.steady_state("at end")
    except (HarnessError, AssertionError) as exc:
        try:
            ensemble.repair()
            outcome = "it was repaired for the next drill"
        except (HarnessError, AssertionError) as again:
            outcome = f"repairing it failed too: {first_line(again)}"
        raise DrillFailure(
            f"the drill left the ensemble unhealthy ({first_line(exc)}); {outcome}"
        ) from exc


DRILL_MARKERS = {
    "ensemble": "create the ensemble (ordered creation, hostnames, myid, FQDNs, zoo.cfg)",
    "sanity": "write through one server, read through the others",
    "durability": "delete the StatefulSet, re-apply, data survives",
    "config": "start flags, logging, non-root",
    "process": "pkill java restarts the container",
    "liveness": "a broken probe script restarts the container",
    "readiness": "an unready server leaves the client service",
    "update": "rolling update and rollback",
    "spread": "anti-affinity spreads the servers over nodes",
    "drain": "cordon and drain against the PodDisruptionBudget",
}
OTHER_MARKERS = {
    "destructive": "changes cluster state beyond the ensemble (nodes, templates, files)",
    "slow": "starts localkube or real processes",
}
