"""Conditions and helpers the disruption drills share (process, liveness, readiness, update,
spread, drain); generic ones live in ``harness.predicates``.

Each condition names what it waits for and, in its detail, what it saw last, in kubectl's
words. Pod conditions read the drill's ``PodWatcher`` and wake on its events; conditions on
other objects (Endpoints, evictions) re-check on every pod event, which is when they change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.errors import DrillFailure
from harness.kube.drain import try_evict
from harness.kube.objects import CONTROLLER_REVISION, STATEFULSET, label_selector
from harness.model.disruption import ProbeTimes, container_spec, endpoint_state
from harness.model.progress import Progress
from harness.predicates import running_ready
from harness.waits import Condition, EventSource
from harness.zk.writer import BackgroundWriter

if TYPE_CHECKING:
    from harness.ensemble import Ensemble
    from harness.kube.client import Cluster
    from harness.kube.watch import PodWatcher


def writer(ensemble: Ensemble, *, interval: float = 0.2) -> BackgroundWriter:
    """A started writer over every server of the ensemble (through the relays)."""
    endpoints = list(ensemble.servers.endpoints().values())
    return BackgroundWriter(endpoints, ensemble.run_id, interval=interval).start()


def probe(cluster: Cluster, pod: str, container: str, kind: str) -> ProbeTimes | None:
    """``livenessProbe`` / ``readinessProbe`` timings of the live pod's container."""
    found = cluster.pod(pod)
    if found is None:
        raise DrillFailure(f"pod {pod} does not exist")
    return ProbeTimes.of(container_spec(found["spec"], container).get(kind))


def in_endpoints(cluster: Cluster, service: str, pod: str, state: str,
                 pods: PodWatcher) -> Condition:
    """``pod`` is listed in the ``service`` Endpoints as ``state`` (ready/notReady/absent)."""

    def check() -> Progress:
        seen = endpoint_state(cluster.endpoints(service), pod)
        return Progress(seen == state, f"{pod} is {seen} in endpoints/{service}")

    return Condition(check, f"{pod} to be {state} in endpoints/{service}", pods.subscribe())


def eviction_refused(cluster: Cluster, pod: str, pods: PodWatcher) -> Condition:
    """One real eviction attempt per check: done while the API refuses it (429).

    An allowed attempt evicts the pod, which is exactly the failure the drill looks for.
    """

    def check() -> Progress:
        answer = try_evict(cluster.transport, cluster.namespace, pod)
        return Progress(answer.refused, answer.describe())

    return Condition(check, f"the eviction of {pod} to be refused", pods.subscribe())


def pod_unschedulable(pods: PodWatcher, name: str) -> Condition:
    """``name`` is Pending with ``PodScheduled=False`` (reason Unschedulable)."""

    def check() -> Progress:
        raw = pods.raw(name)
        if raw is None:
            return Progress.waiting(f"{name} does not exist")
        phase = (raw.get("status") or {}).get("phase")
        conditions = (raw.get("status") or {}).get("conditions") or []
        scheduled: dict[str, Any] = next(
            (c for c in conditions if c.get("type") == "PodScheduled"), {})
        detail = (f"{name} {phase}, PodScheduled={scheduled.get('status', '?')} "
                  f"{scheduled.get('reason', '')}: {scheduled.get('message', '')}").strip()
        done = (phase == "Pending" and not (raw.get("spec") or {}).get("nodeName")
                and scheduled.get("status") == "False"
                and scheduled.get("reason") == "Unschedulable")
        return Progress(done, detail)

    return Condition(check, f"{name} to be Pending, unschedulable", pods.subscribe())


def ready_elsewhere(pods: PodWatcher, name: str, uid: str, avoid: set[str]) -> Condition:
    """A new ``name`` (not ``uid``) Running and Ready on a node not in ``avoid``."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.waiting(f"{name} does not exist")
        done = snap.uid != uid and running_ready(snap) and snap.node not in avoid
        return Progress(done, f"{snap.row()} on {snap.node or '(no node)'}")

    return Condition(check, f"{name} rescheduled, Running and Ready", pods.subscribe())


def revisions(cluster: Cluster, statefulset: str) -> list[dict[str, Any]]:
    """``kubectl rollout history``: ControllerRevisions controlled by the set, oldest first."""
    sts = cluster.statefulset(statefulset)
    if sts is None:
        raise DrillFailure(f"statefulset {statefulset} does not exist")
    selector = label_selector(sts["spec"]["selector"].get("matchLabels") or {})
    owned = [r for r in cluster.list_objects(CONTROLLER_REVISION, selector)
             if any(o.get("controller") and o.get("uid") == sts["metadata"]["uid"]
                    for o in r["metadata"].get("ownerReferences") or [])]
    return sorted(owned, key=lambda r: int(r.get("revision") or 0))


def rollout_undo(cluster: Cluster, statefulset: str) -> str:
    """``kubectl rollout undo sts/NAME``: patch the set with the previous revision's data."""
    history = revisions(cluster, statefulset)
    if len(history) < 2:
        raise DrillFailure(f"statefulset {statefulset}: no last revision to roll back to")
    target = history[-2]
    cluster.patch(STATEFULSET, statefulset, target["data"], "strategic")
    return f"statefulset.apps/{statefulset} rolled back to revision {target.get('revision')}"


def budgets(cluster: Cluster, labels: dict[str, str]) -> list[dict[str, Any]]:
    """PodDisruptionBudgets whose (non-empty) selector matches pods with ``labels``."""
    from harness.kube.objects import PDB
    from harness.model.disruption import selector_matches

    return [p for p in cluster.list_objects(PDB)
            if (p.get("spec") or {}).get("selector")
            and selector_matches(p["spec"]["selector"], labels)]


def budget_allows(cluster: Cluster, name: str, allowed: int, pods: PodWatcher) -> Condition:
    """``kubectl get pdb NAME`` shows ALLOWED DISRUPTIONS ``allowed`` (status observed)."""
    from harness.kube.objects import PDB

    def check() -> Progress:
        pdb = cluster.get(PDB, name) or {}
        status = pdb.get("status") or {}
        seen = status.get("disruptionsAllowed")
        observed = int(status.get("observedGeneration") or 0) >= int(
            (pdb.get("metadata") or {}).get("generation") or 0)
        return Progress(observed and seen == allowed,
                        f"pdb/{name}: disruptionsAllowed {seen}, currentHealthy "
                        f"{status.get('currentHealthy')}, desiredHealthy "
                        f"{status.get('desiredHealthy')}")

    return Condition(check, f"pdb/{name} to allow {allowed} disruption(s)", pods.subscribe())


def rollout_settled(
    cluster: Cluster, statefulset: str, events: EventSource | None = None
) -> Condition:
    """Every replica updated, Ready and labelled with the update revision.

    Stricter than ``kubectl rollout status`` (which only compares the current and update
    revisions): after a template is restored mid-rollout those agree at once, while a pod
    of the abandoned revision is still waiting to be replaced.
    """
    from harness.model.pod_status import is_pod_ready
    from harness.model.rollout import is_complete, rollout_progress

    def check() -> Progress:
        sts = cluster.statefulset(statefulset)
        if sts is None:
            return Progress.waiting(f"statefulset {statefulset} does not exist")
        if not is_complete(sts):
            return Progress.waiting(rollout_progress(sts).detail)
        revision = (sts.get("status") or {}).get("updateRevision")
        selector = label_selector(sts["spec"]["selector"].get("matchLabels") or {})
        behind = [p["metadata"]["name"] for p in cluster.pods(selector)
                  if (p["metadata"].get("labels") or {}).get("controller-revision-hash")
                  != revision or not is_pod_ready(p)]
        if behind:
            return Progress.waiting(f"not yet Ready at {revision}: {', '.join(sorted(behind))}")
        return Progress.ok(f"every pod Ready at {revision}")

    return Condition(check, f"statefulset {statefulset} settled on its update revision", events)
