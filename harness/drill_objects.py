"""What a drill reads and does on the cluster, as typed views: ``DrillBase``.

The part of ``harness.drilling.Drill`` that is about Kubernetes objects rather than steps,
waits and the verdict: the StatefulSet, nodes, budgets and services as views
(``harness.model.objects``), pod details, rollout history and undo, the partition, deleting
and re-applying the ensemble, and the data claims. Every action is recorded as a command
in the current step.
"""

from __future__ import annotations

from typing import Any

from harness.conditions import ObjectReader
from harness.ensemble import Ensemble, Target
from harness.errors import ConfigError, DrillFailure
from harness.kube.client import Cluster
from harness.kube.watch import PodWatcher
from harness.kube.workloads import budgets_selecting, revisions, rollout_undo, services_selecting
from harness.model.disruption import ProbeTimes, endpoint_state
from harness.model.objects import BudgetView, NodeView, StatefulSetView, container_of
from harness.settings import Settings, Timeouts
from harness.steps import DrillRecorder
from harness.timeline import PodEvent
from harness.zk.profile import ImageProfile


class DrillBase:
    """The ensemble's identity and the cluster's objects, for one drill."""

    ensemble: Ensemble
    recorder: DrillRecorder
    pods: PodWatcher
    _cluster: Cluster

    # -- what the drill is about -----------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return self.ensemble.names

    @property
    def target(self) -> Target:
        return self.ensemble.target

    @property
    def profile(self) -> ImageProfile:
        return self.ensemble.profile

    @property
    def settings(self) -> Settings:
        return self.ensemble.settings

    @property
    def timeouts(self) -> Timeouts:
        return self.ensemble.settings.timeouts

    @property
    def run_id(self) -> str:
        return self.ensemble.run_id

    @property
    def objects(self) -> ObjectReader:
        """Read access to the cluster, for the object conditions of ``harness.conditions``."""
        return self._cluster

    @property
    def creation(self) -> list[PodEvent] | None:
        """The pod events of the session's deploy, if it created the pods (else None)."""
        return self.ensemble.creation

    def note(self, name: str, ok: bool, detail: str = "") -> None:
        self.recorder.note(name, ok, detail)

    def command(self, text: str) -> None:
        self.recorder.command(text)

    # -- objects, as typed views -----------------------------------------------------------------
    def statefulset(self) -> StatefulSetView:
        found = self._cluster.statefulset(self.target.statefulset)
        if found is None:
            raise DrillFailure(f"statefulset {self.target.statefulset} does not exist")
        return StatefulSetView(found)

    def nodes(self) -> list[NodeView]:
        return [NodeView(n) for n in self._cluster.nodes()]

    def budgets(self) -> list[BudgetView]:
        """The PodDisruptionBudgets that select the ensemble's pods."""
        return budgets_selecting(self._cluster, self.statefulset().template_labels)

    def client_service(self) -> str:
        """The Service with a cluster IP that selects the ensemble's pods (``zk-cs``)."""
        labels = self.statefulset().template_labels
        found = [s for s in services_selecting(self._cluster, labels) if not s.headless]
        if not found:
            raise DrillFailure(f"no Service with a cluster IP selects the pods {labels}")
        return found[0].name

    def endpoint_state(self, service: str, pod: str) -> str:
        """``ready``, ``notReady`` or ``absent``: where ``pod`` is in ``service``'s Endpoints."""
        return endpoint_state(self._cluster.endpoints(service), pod)

    def events_for(self, pod: str, reason: str, *, since: str | None = None) -> list[str]:
        """Messages of the events about ``pod`` with ``reason`` (``kubectl describe pod``);
        with ``since`` (RFC 3339, UTC, ``...Z``), only those last seen at or after it."""
        return [str(e.get("message")) for e in self._cluster.events_for(pod)
                if e.get("reason") == reason
                and (since is None or str(e.get("lastTimestamp") or e.get("eventTime") or "")
                     >= since)]

    def probe(self, pod: str, kind: str) -> ProbeTimes | None:
        """The ``liveness``/``readiness`` probe timings of the live pod's container."""
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        return container_of(found["spec"], self.target.container).probe(kind)

    def probe_handler(self, pod: str, kind: str) -> str | None:
        """How the live pod's ``liveness``/``readiness`` probe checks: ``exec: ...``,
        ``tcpSocket :2181``, ... or None when it has none."""
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        return container_of(found["spec"], self.target.container).probe_handler(kind)

    def removable_probe_script(self, pod: str, kind: str) -> tuple[str | None, str]:
        """The script whose removal makes the live pod's ``kind`` probe fail, or None and
        why there is none (no probe, not an exec probe, a read-only root file system, a
        profile without a script): then a drill hangs the server instead."""
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        container = container_of(found["spec"], self.target.container)
        handler = container.probe_handler(kind)
        profile = self.profile
        script = profile.live_script if kind == "liveness" else profile.ready_script
        if handler is None:
            return None, f"{pod} has no {kind}Probe"
        if not handler.startswith("exec"):
            return None, f"the {kind}Probe is {handler}: no script to remove"
        if container.read_only_root:
            return None, "readOnlyRootFilesystem: true: the probe script cannot be removed"
        if not script or not profile.script_removable:
            return None, (f"profile {profile.name} names no removable probe script "
                          f"({profile.source})")
        return script, f"the {kind}Probe runs {handler[6:]}; its script is {script}"

    def security(self, pod: str) -> tuple[int | None, int | None]:
        """``runAsUser`` (container, else pod) and ``fsGroup`` of the live pod, or None."""
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        spec = found["spec"]
        pod_ctx = spec.get("securityContext") or {}
        ctx = container_of(spec, self.target.container).raw.get("securityContext") or {}
        user = ctx.get("runAsUser", pod_ctx.get("runAsUser"))
        group = pod_ctx.get("fsGroup")
        return (None if user is None else int(user)), (None if group is None else int(group))

    def grace_period(self, pod: str) -> float:
        """``terminationGracePeriodSeconds`` of the live pod (default 30)."""
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        value = found["spec"].get("terminationGracePeriodSeconds")
        return 30.0 if value is None else float(value)

    def container_cpu(self, pod: str) -> str | None:
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        return container_of(found["spec"], self.target.container).cpu_request

    def node_of(self, pod: str) -> str:
        snap = self.pods.current().get(pod)
        if snap is None or not snap.node:
            raise DrillFailure(f"{pod} is not on a node")
        return snap.node

    def force_delete(self, pod: str) -> None:
        """``kubectl delete pod POD --force --grace-period=0``: the object goes at once,
        whatever its kubelet can confirm (what a node that will not come back needs)."""
        self._cluster.delete_pod(pod, grace_seconds=0)
        self.command(f"kubectl delete pod {pod} --force --grace-period=0 -> pod \"{pod}\" "
                     "force deleted")

    def container_image(self, pod: str) -> str:
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        return str(container_of(found["spec"], self.target.container).raw.get("image"))

    def upgrade_image(self) -> str:
        """``--upgrade-image``; on localkube another tag of the image in use by default."""
        if self.settings.upgrade_image:
            return self.settings.upgrade_image
        if self.settings.cluster != "local":
            raise ConfigError("the upgrade drill needs --upgrade-image on a real cluster",
                              hint="name the image to upgrade to, e.g. zookeeper:3.9.3")
        current = str(self.statefulset().container(self.target.container).raw.get("image"))
        repository, _, tag = current.rpartition(":") if ":" in current.split("/")[-1] else (
            current, "", "latest")
        return f"{repository}:{tag}-zkdrill-upgrade"

    def revisions(self) -> list[dict[str, Any]]:
        """``kubectl rollout history``: the set's ControllerRevisions, oldest first."""
        return revisions(self._cluster, self.target.statefulset)

    def rollout_undo(self) -> None:
        self.command(rollout_undo(self._cluster, self.target.statefulset))

    # -- the ensemble as a whole -----------------------------------------------------------------
    def apply(self) -> None:
        """``kubectl apply`` the manifest (or re-create the StatefulSet found)."""
        self.command(self.ensemble.apply())

    def data_claim(self, pod: str) -> dict[str, Any] | None:
        """The PVC mounted at the data directory of ``pod``, or None (e.g. an emptyDir)."""
        volume = self.ensemble.data_volume(self._raw(pod)) or {}
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        return self._cluster.pvc(str(claim)) if claim else None

    def describe_data_volume(self, pod: str) -> str:
        """``claim datadir-zk-2`` / ``emptyDir volume 'datadir'``, for failure messages."""
        volume = self.ensemble.data_volume(self._raw(pod))
        if volume is None:
            return f"no volume at {self.profile.data_dir} (container file system)"
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            return f"claim {claim}"
        kind = next((k for k in volume if k != "name"), "unknown")
        return f"{kind} volume {volume.get('name')!r}, not a PersistentVolumeClaim"

    def _raw(self, pod: str) -> dict[str, Any] | None:
        return self.pods.raw(pod) or self._cluster.pod(pod)
