"""The ZooKeeper ensemble under test: what it is, deploying it, and its steady state.

``Target`` is the ensemble's identity read from its StatefulSet (the manifest's, or the live
one with ``--use-existing``): pod names, myids, FQDNs, selector, start flags, the claim
template of the data directory. ``Ensemble`` is that identity plus what is done to the
ensemble as a whole: apply the manifest (server-side), delete the StatefulSet, tear down
what the session created, and say why pods do not get Ready when it can tell (start flags
that do not match the replica count, the last log lines of a crashing server). Deploying
and the steady state are driven by ``harness.drilling.Drill``, which watches while it acts.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError, HarnessError
from harness.kube.apply import Applied, Manifest
from harness.kube.client import Cluster
from harness.kube.objects import PVC, STATEFULSET, label_selector, resolve_kind
from harness.model.ordinals import Member, members
from harness.model.pod_status import PodSnapshot
from harness.servers import Servers
from harness.settings import Settings
from harness.timeline import PodEvent
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
    """The session's ensemble: what it is, and the cluster operations on it as a whole.

    Per-drill state (the pod watcher, the step recorder, ZooKeeper access, faults) lives in
    ``harness.drilling.Drill``; this object outlives every drill of the session.
    """

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
        if settings.target not in (None, "leader", "follower", *self.target.names):
            raise ConfigError(f"--target={settings.target} is not a pod of the ensemble",
                              hint="use leader, follower or one of "
                                   + ", ".join(self.target.names))
        self.servers = Servers(cluster, self.target.names, profile, settings.timeouts.zk)
        self.sentinels = make_sentinels(self.run_id)
        self.sentinels_written = False
        self.applied: list[Applied] = []
        self.creation: list[PodEvent] | None = None  # the deploy's events, if it created the pods
        self.claims_before: set[str] = set()

    @property
    def names(self) -> list[str]:
        return self.target.names

    def apply(self) -> str:
        """``kubectl apply`` the manifest again (or, with ``--use-existing``, re-create the
        live StatefulSet as it was when the session started); returns the command line."""
        if self.manifest is None:
            assert self._live is not None
            if self.cluster.statefulset(self.target.statefulset) is None:
                self.cluster.create(STATEFULSET, copy.deepcopy(self._live))
            return f"re-create statefulset/{self.target.statefulset} as found"
        if not self.applied:
            self.claims_before = {p["metadata"]["name"] for p in self.cluster.pvcs()}
        applied = self.cluster.apply(self.manifest)
        if not self.applied:
            self.applied = applied
        return (f"kubectl apply --server-side -f {self.manifest.path}: "
                + ", ".join(a.describe() for a in applied))

    def statefulset_document(self) -> dict[str, Any]:
        """The StatefulSet as this session deploys it: the manifest's document, or with
        ``--use-existing`` the live one as the session found it (to create it again)."""
        if self.manifest is not None:
            return copy.deepcopy(self.manifest.statefulset(self.target.statefulset))
        assert self._live is not None
        return copy.deepcopy(self._live)

    def diagnose(self, pods: Mapping[str, PodSnapshot]) -> str:
        """Why the pods may not get Ready, in one or more ``; ``-joined clauses (or "")."""
        clues = []
        servers = self.target.start_flags.get("servers")
        if servers is not None and servers != str(self.target.replicas):
            clues.append(
                f"the start command has --servers={servers} but the StatefulSet has "
                f"{self.target.replicas} replicas"
            )
        for name, snap in sorted(pods.items()):
            if snap.ready:
                continue
            try:
                tail = self.cluster.logs(name, container=self.target.container, tail=3,
                                         previous=snap.restarts > 0).strip().splitlines()
            except HarnessError:
                tail = []
            if tail:
                clues.append(f"{snap.row()}, last log: {' | '.join(tail)}")
        return ("\ndiagnosis: " + "; ".join(clues)) if clues else ""

    def data_volume(self, pod: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The pod volume that holds the ZooKeeper data directory (longest mount wins)."""
        if pod is None:
            return None
        return _volume_at(pod, self.target.container, self.profile.data_dir)

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
                    if claim not in self.claims_before and self.cluster.delete(PVC, claim):
                        deleted.append(f"persistentvolumeclaim/{claim}")
        return deleted


def _volume_at(pod: Mapping[str, Any], container: str, data_dir: str) -> dict[str, Any] | None:
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
