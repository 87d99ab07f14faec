"""The ZooKeeper ensemble under test: what it is, deploying it, and its steady state.

``Target`` is the ensemble's identity read from its StatefulSet (the manifest's, or the live
one with ``--use-existing``): pod names, myids, FQDNs, selector, start flags, the claim
template of the data directory. ``Ensemble`` deploys it once per session (server-side
apply, then 3/3 Ready watched from the start so ordered creation is on record), and checks
the steady state every drill starts and ends with: every pod Running and Ready, the
StatefulSet rolled out, exactly one leader, and every sentinel znode on every server. When
the ensemble does not get there, the failure says why if it can tell (start flags that do
not match the replica count, the last log lines of a crashing server).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError, DrillFailure, HarnessError, WaitTimeout
from harness.kube.apply import Applied, Manifest
from harness.kube.client import Cluster
from harness.kube.exec import ExecResult
from harness.kube.objects import PVC, STATEFULSET, label_selector, resolve_kind
from harness.kube.watch import PodWatcher
from harness.model.ordinals import Member, members
from harness.model.progress import Progress
from harness.predicates import ensemble_healthy, pods_ready, statefulset_rolled_out
from harness.servers import Servers, ZooKeeper
from harness.settings import Settings
from harness.steps import DrillRecorder
from harness.timeline import PodEvent
from harness.waits import Condition, wait_for
from harness.zk.profile import ImageProfile, parse_start_flags
from harness.zk.sentinels import make_sentinels

_SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")


@dataclass(frozen=True)
class Target:
    namespace: str
    statefulset: str
    service: str
    replicas: int
    selector: str
    container: str
    members: tuple[Member, ...]
    start_flags: dict[str, str]
    claim_templates: tuple[str, ...]

    @classmethod
    def of(cls, sts: dict[str, Any], profile: ImageProfile, namespace: str, domain: str) -> Target:
        spec = sts.get("spec") or {}
        name = sts["metadata"]["name"]
        replicas = int(spec.get("replicas", 1))
        service = str(spec.get("serviceName") or "")
        pod_spec = (spec.get("template") or {}).get("spec") or {}
        containers = pod_spec.get("containers") or [{}]
        container = next((c for c in containers if c.get("name") == profile.container), None)
        chosen = container or containers[0]
        command = " ".join([*(chosen.get("command") or []), *(chosen.get("args") or [])])
        return cls(
            namespace=namespace,
            statefulset=name,
            service=service,
            replicas=replicas,
            selector=label_selector((spec.get("selector") or {}).get("matchLabels") or {}),
            container=str(chosen.get("name") or profile.container),
            members=members(name, replicas, service, namespace, domain),
            start_flags=parse_start_flags(command) if command else {},
            claim_templates=tuple(
                t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []
            ),
        )

    @property
    def names(self) -> list[str]:
        return [m.pod for m in self.members]


class Ensemble:
    """The session's ensemble; drills attach their pod watcher and recorder to it."""

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        profile: ImageProfile,
        manifest: Manifest | None,
    ) -> None:
        self.cluster = cluster
        self.settings = settings
        self.profile = profile
        self.manifest = manifest
        self.run_id = uuid.uuid4().hex[:12]
        self._live: dict[str, Any] | None = None
        if manifest is not None:
            sts = manifest.statefulset(settings.statefulset)
        else:
            found = cluster.statefulset(settings.statefulset)
            if found is None:
                raise ConfigError(
                    f"--use-existing: statefulset {cluster.namespace}/{settings.statefulset} "
                    f"not found on context {cluster.context!r}",
                    hint="check --namespace/--statefulset, or drop --use-existing to deploy",
                )
            sts = self._live = _reusable(found)
        self.target = Target.of(sts, profile, cluster.namespace, settings.cluster_domain)
        self.servers = Servers(
            cluster, self.target.names, profile.client_port, settings.timeouts.zk
        )
        self.sentinels = make_sentinels(self.run_id)
        self.sentinels_written = False
        self.applied: list[Applied] = []
        self.creation: list[PodEvent] | None = None  # the deploy's events, if it created the pods
        self._claims_before: set[str] = set()
        self._pods: PodWatcher | None = None
        self.recorder: DrillRecorder | None = None
        self.zk: ZooKeeper | None = None

    # -- per drill ---------------------------------------------------------------------------
    def attach(self, recorder: DrillRecorder) -> PodWatcher:
        """Start a pod watcher for this drill and record into ``recorder``."""
        self._pods = self.cluster.watch_pods(self.target.selector)
        self.recorder = recorder
        recorder.pods = self._pods
        self.zk = ZooKeeper(self.servers, recorder, self.sentinels, self.exec, self.profile.zkcli)
        return self._pods

    def detach(self) -> None:
        if self._pods is not None and self.recorder is not None:
            self.recorder.record.events = self._pods.events()
            self._pods.stop()
        self._pods = self.recorder = self.zk = None

    @property
    def pods(self) -> PodWatcher:
        """This drill's pod watcher: the latest pods, the timeline, wake-ups for waits."""
        if self._pods is None:
            raise RuntimeError("no drill is attached to the ensemble (use the ensemble fixture)")
        return self._pods

    @property
    def names(self) -> list[str]:
        return self.target.names

    # -- actions -----------------------------------------------------------------------------
    def deploy(self, recorder: DrillRecorder) -> None:
        """Apply the manifest (or adopt the live ensemble) and reach the steady state."""
        watcher = self.attach(recorder)
        try:
            before = set(watcher.current())
            if self.manifest is not None:
                self._claims_before = {p["metadata"]["name"] for p in self.cluster.pvcs()}
                with recorder("apply the manifest (server-side apply)"):
                    self.applied = self.apply()
            with recorder(f"wait for {self.target.replicas} pods Running and Ready"):
                self.wait_ready()
            if not before:
                self.creation = watcher.events()
            self.steady_state("after deployment")
        finally:
            self.detach()

    def apply(self) -> list[Applied]:
        """``kubectl apply`` the manifest again; with ``--use-existing``, re-create the live
        StatefulSet as it was when the session started."""
        if self.manifest is None:
            assert self._live is not None
            if self.cluster.statefulset(self.target.statefulset) is None:
                self.cluster.create(STATEFULSET, copy.deepcopy(self._live))
            self._command(f"re-create statefulset/{self.target.statefulset} as found")
            return []
        applied = self.cluster.apply(self.manifest)
        self._command(
            f"kubectl apply --server-side -f {self.manifest.path}: "
            + ", ".join(a.describe() for a in applied)
        )
        return applied

    def delete_statefulset(self) -> None:
        """``kubectl delete statefulset zk`` (pods go, claims stay)."""
        self.cluster.delete_statefulset(self.target.statefulset)
        self._command(f"kubectl delete statefulset {self.target.statefulset}")

    def exec(self, pod: str, command: Sequence[str], *, timeout: float = 60.0) -> ExecResult:
        """``kubectl exec POD -- COMMAND`` in the ZooKeeper container; recorded in the step."""
        result = self.cluster.exec(pod, command, container=self.target.container, timeout=timeout)
        self._command(result.describe())
        return result

    def logs(self, pod: str, *, tail: int | None = None, previous: bool = False) -> str:
        text = self.cluster.logs(pod, container=self.target.container, tail=tail, previous=previous)
        self._command(
            f"kubectl logs {pod}"
            + (f" --tail {tail}" if tail else "")
            + f" -> {len(text.splitlines())} lines"
        )
        return text

    def wait(
        self, condition: Condition, *, timeout: float | None = None, recheck: float = 2.0
    ) -> Progress:
        """``wait_for`` with the step timeout by default, progress recorded in the step."""
        recorder = self.recorder
        return wait_for(
            condition,
            timeout=self.settings.timeouts.step if timeout is None else timeout,
            on_progress=(lambda p: recorder.progress(p.detail)) if recorder else None,
            recheck=recheck,
        )

    def wait_ready(self, timeout: float | None = None) -> Progress:
        try:
            return self.wait(
                pods_ready(self.pods, self.target.replicas, self.names),
                timeout=self.settings.timeouts.rollout if timeout is None else timeout,
            )
        except WaitTimeout as exc:
            raise DrillFailure(f"{exc}{self.diagnose()}") from exc

    def wait_serving(self, timeout: float | None = None) -> Progress:
        """One leader and every other server following: Ready (``ruok``) is not enough, a
        server answers ``imok`` before it has joined the quorum."""
        return self.wait(
            ensemble_healthy(self.servers.modes, self.target.replicas, self.pods.subscribe()),
            timeout=self.settings.timeouts.pod_ready if timeout is None else timeout,
            recheck=0.5,
        )

    # -- steady state ------------------------------------------------------------------------
    def steady_state(self, where: str) -> None:
        """N/N Running and Ready, rolled out, one leader, every sentinel on every server."""
        assert self.recorder is not None and self.zk is not None
        n = self.target.replicas
        with self.recorder(f"steady state {where}: {n}/{n} Ready, one leader, same data"):
            self.wait_ready()
            rolled_out = statefulset_rolled_out(
                self.cluster, self.target.statefulset, self.pods.subscribe()
            )
            self.wait(rolled_out, timeout=self.settings.timeouts.rollout)
            self.wait_serving()
            leader = self.zk.leader()  # recorded in the step
            if not self.sentinels_written:
                self.zk.write_sentinels(leader)
                self.sentinels_written = True
            self.zk.check_sentinels()

    def repair(self) -> None:
        """Re-apply, wait for the steady state, and re-write sentinels a drill lost."""
        assert self.recorder is not None and self.zk is not None
        with self.recorder("repair: re-apply the manifest, re-write lost sentinels"):
            self.apply()
            self.wait_ready()
            self.zk.write_sentinels(self.zk.leader())
        self.steady_state("after repair")

    def diagnose(self) -> str:
        """Why the pods may not get Ready, in one or more ``; ``-joined clauses (or "")."""
        clues = []
        servers = self.target.start_flags.get("servers")
        if servers is not None and servers != str(self.target.replicas):
            clues.append(
                f"the start command has --servers={servers} but the StatefulSet has "
                f"{self.target.replicas} replicas"
            )
        if self._pods is not None:
            for name, snap in sorted(self._pods.current().items()):
                if snap.ready:
                    continue
                try:
                    tail = (
                        self.cluster.logs(
                            name,
                            container=self.target.container,
                            tail=3,
                            previous=snap.restarts > 0,
                        )
                        .strip()
                        .splitlines()
                    )
                except HarnessError:
                    tail = []
                if tail:
                    clues.append(f"{snap.row()}, last log: {' | '.join(tail)}")
        return ("\ndiagnosis: " + "; ".join(clues)) if clues else ""

    # -- claims --------------------------------------------------------------------------------
    def data_claim(self, pod: str) -> dict[str, Any] | None:
        """The PVC mounted at the data directory of ``pod``, or None (e.g. an emptyDir)."""
        volume = self.data_volume(pod) or {}
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        return self.cluster.pvc(str(claim)) if claim else None

    def data_volume(self, pod: str) -> dict[str, Any] | None:
        """The pod volume that holds the ZooKeeper data directory (longest mount wins)."""
        raw = (self._pods.raw(pod) if self._pods else None) or self.cluster.pod(pod)
        return _volume_at(raw, self.target.container, self.profile.data_dir) if raw else None

    def describe_data_volume(self, pod: str) -> str:
        """``claim datadir-zk-2`` / ``emptyDir volume 'datadir'``, for failure messages."""
        volume = self.data_volume(pod)
        if volume is None:
            return f"no volume at {self.profile.data_dir} (container file system)"
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            return f"claim {claim}"
        kind = next((k for k in volume if k != "name"), "unknown")
        return f"{kind} volume {volume.get('name')!r}, not a PersistentVolumeClaim"

    # -- end of session --------------------------------------------------------------------
    def teardown(self) -> list[str]:
        """Delete what this session created (objects, then their claims); say what."""
        deleted: list[str] = []
        if self.manifest is None:
            return deleted
        created = [a for a in self.applied if a.created]
        for applied in reversed(created):
            kind = resolve_kind(self.cluster.transport, applied.api_version, applied.kind)
            self.cluster.delete(kind, applied.name, propagation="Background")
            deleted.append(f"{applied.kind.lower()}/{applied.name}")
        if any(a.kind == "StatefulSet" for a in created):
            for template in self.target.claim_templates:
                for name in self.names:
                    claim = f"{template}-{name}"
                    if claim not in self._claims_before and self.cluster.delete(PVC, claim):
                        deleted.append(f"persistentvolumeclaim/{claim}")
        return deleted

    def _command(self, text: str) -> None:
        if self.recorder is not None:
            self.recorder.command(text)


def _volume_at(pod: dict[str, Any], container: str, data_dir: str) -> dict[str, Any] | None:
    """The volume mounted over ``data_dir`` in ``container`` (the deepest such mount)."""
    spec = pod.get("spec") or {}
    chosen = next((c for c in spec.get("containers") or [] if c.get("name") == container), None)
    if chosen is None:
        return None
    mounts = [
        m
        for m in chosen.get("volumeMounts") or []
        if data_dir == m.get("mountPath") or data_dir.startswith(m.get("mountPath", "") + "/")
    ]
    if not mounts:
        return None
    mount = max(mounts, key=lambda m: len(m.get("mountPath", "")))
    volumes = spec.get("volumes") or []
    return next((v for v in volumes if v.get("name") == mount.get("name")), None)


def _reusable(sts: dict[str, Any]) -> dict[str, Any]:
    """A live StatefulSet stripped of server-set fields, to re-create it as it was."""
    clean = copy.deepcopy(sts)
    clean.pop("status", None)
    for key in _SERVER_FIELDS:
        clean.get("metadata", {}).pop(key, None)
    clean.setdefault("apiVersion", "apps/v1")
    clean.setdefault("kind", "StatefulSet")
    return clean
