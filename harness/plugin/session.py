"""What lives for one pytest session: settings, localkube, the connection, the ensemble.

``Session`` starts nothing until a selected test needs the cluster, so ``pytest tests/``
never starts localkube. It deploys the ensemble once (recorded as the run's setup, watched
from before the first pod exists so ordered creation is on record) and deletes what it
created at the end unless ``--keep`` or ``--use-existing``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.commands import NodeCommands
from harness.errors import HarnessError
from harness.report import RunRecord
from harness.settings import Settings
from harness.steps import DrillRecord, DrillRecorder, StepRecord, now
from harness.timeline import PodEvent
from harness.zk.profile import AUTO, ImageProfile, get_profile, resolve_profile

if TYPE_CHECKING:  # the kube layer (kubernetes, kazoo) loads only when a drill needs it
    from harness.ensemble import Ensemble
    from harness.kube.apply import Manifest
    from harness.kube.client import Cluster
    from harness.kube.lease import RunLease
    from harness.localkube_process import LocalkubeProcess


class Session:
    """Everything that lives for one pytest session."""

    def __init__(self, settings: Settings, report_dir: Path) -> None:
        self.settings = settings
        self.report_dir = report_dir
        # a named profile or a profile file is checked at once; ``auto`` once the
        # StatefulSet is known (the manifest's, or the live one with --use-existing)
        self._profile: ImageProfile | None = (
            None if settings.zk_profile == AUTO else get_profile(settings.zk_profile))
        self.run = RunRecord(settings)
        self.localkube: LocalkubeProcess | None = None
        self.report_files: list[Path] = []
        self._cluster: Cluster | None = None
        self._manifest: Manifest | None = None
        self._ensemble: Ensemble | None = None
        self.lease: RunLease | None = None  # held from the run's first fault to its end
        # the live transcript's hooks (``harness.plugin.transcript``), when it is on
        self.step_observers: list[Callable[[str, StepRecord], None]] = []
        self.pod_listener: Callable[[PodEvent], None] | None = None

    def manifest(self) -> Manifest | None:
        """The manifest to deploy (None with ``--use-existing``); checked on first use."""
        if self.settings.use_existing:
            return None
        if self._manifest is None:
            from harness.kube.apply import Manifest

            manifest = Manifest.load(self.settings.manifest)
            names = [d["metadata"]["name"] for d in manifest.documents
                     if d["kind"] == "StatefulSet"]
            if self.settings.origins.get("statefulset", "default") == "default" and len(
                    names) == 1 and names[0] != self.settings.statefulset:
                # --statefulset not given: the manifest's only StatefulSet
                self.settings = dataclasses.replace(self.settings, statefulset=names[0])
            profile = self.profile_for(manifest.statefulset(self.settings.statefulset))
            if self.settings.image is not None:
                manifest = manifest.with_image(self.settings.image, profile.container)
            self._manifest = manifest
        return self._manifest

    def profile_for(self, statefulset: Mapping[str, Any]) -> ImageProfile:
        """The image profile: the one named, or (``auto``) the one of the set's image."""
        if self._profile is None:
            self._profile = resolve_profile(self.settings.zk_profile, statefulset,
                                            image=self.settings.image)
        return self._profile

    @property
    def profile(self) -> ImageProfile:
        if self._profile is None:
            raise RuntimeError("the image profile is resolved with the StatefulSet")
        return self._profile

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
            from harness.drilling import Drill
            from harness.ensemble import Ensemble

            cluster, manifest = self.cluster(), self.manifest()
            if manifest is None:
                live = cluster.statefulset(self.settings.statefulset)
                if live is not None:
                    self.profile_for(live)
                elif self._profile is None:  # Ensemble says the set is missing
                    self._profile = get_profile("kubernetes-zookeeper")
            ensemble = Ensemble(cluster, self.settings, self.profile, manifest)
            record = DrillRecord("session setup", "deploy the ensemble", [])
            self.run.setup = record
            recorder = DrillRecorder(record)
            for observer in self.step_observers:
                recorder.observers.append(observer)
            deployer = Drill(ensemble, recorder)
            deployer.note("image profile", True,
                          f"{self.profile.name} ({self.profile.source}; "
                          f"--zk-profile={self.settings.zk_profile}), container "
                          f"{ensemble.target.container}")
            if self.pod_listener is not None:
                deployer.pods.add_listener(self.pod_listener)
            try:
                deployer.deploy()
            except BaseException as exc:
                record.outcome, record.message = "failed", str(exc)
                self._ensemble = ensemble  # so that what this run applied is deleted
                self.teardown_ensemble()
                raise
            finally:
                deployer.close()
                record.ended = now()
            record.outcome = "passed"
            self._ensemble = ensemble
        return self._ensemble

    def node_commands(self) -> NodeCommands | None:
        """How to stop and start a node: the user's commands, or localkube's own."""
        s = self.settings
        if s.node_stop_command and s.node_start_command:
            return NodeCommands(s.node_stop_command, s.node_start_command)
        if self.localkube is not None:
            return NodeCommands(self.localkube.node_command("stop"),
                                self.localkube.node_command("start"))
        return None

    def own_run(self, cluster: Cluster, run_id: str) -> None:
        """Hold the run's Lease (created before its first journal entry, renewed until
        ``close``), so no other run, on any machine, replays this run's entries."""
        if self.lease is None:
            from harness.kube.lease import RunLease

            self.lease = RunLease(cluster.transport, cluster.namespace, run_id).start()

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
        if self.lease is not None:
            try:
                self.lease.stop()
            except HarnessError as exc:  # it expires on its own
                self.run.teardown.append(f"could not delete Lease {self.lease.name}: {exc}")
            self.lease = None
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
RECORD_KEY = pytest.StashKey[DrillRecord]()


def get_session(config: pytest.Config) -> Session:
    return config.stash[SESSION_KEY]
