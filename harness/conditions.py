"""Every named wait condition, in one place and with one calling convention.

A condition is built as ``name(events, ...)``: the event source first (a ``PodWatcher``, or
anything with ``subscribe()``; ``None`` means "re-check on the timer only"), then what it
reads. Each returns a ``Condition`` whose check answers ``Progress(done, detail)`` with the
detail in kubectl's words ("2/3 Running and Ready; zk-2 0/1 ContainerCreating 0"), so a
``WaitTimeout`` names the last state seen, and whose ``timeout_class`` names the
``Timeouts`` field that bounds it by default (as the e2e framework's ``const.go`` does):

- ``pod_ready``: one pod from created (or restarted) to Ready;
- ``rollout``: every pod of the set (ordered creation, a rolling update, all terminating);
- ``step``: anything else a single drill step waits for;
- ``zk``: one ZooKeeper answer.

Conditions only look; actions (evicting for real, patching) live in ``harness.kube`` and
``harness.faults``. The one exception is ``eviction_refused``: a refusal can only be seen by
asking, so each check is one real eviction attempt (allowed is the failure it looks for).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from harness.errors import PodCannotStart
from harness.model.disruption import endpoint_state
from harness.model.drain import EvictionAnswer
from harness.model.objects import selector_string
from harness.model.pod_status import PodSnapshot, is_pod_ready
from harness.model.progress import Progress
from harness.model.quorum import assess_ensemble
from harness.model.rollout import is_complete, rollout_progress, steady_progress
from harness.model.stuck import StartWatch
from harness.waits import Condition, EventSource

ROLLOUT, POD_READY, STEP, ZK = "rollout", "pod_ready", "step", "zk"


class EventFeed(Protocol):
    """Something that hands each wait its own queue of change events (``PodWatcher``)."""

    def subscribe(self) -> EventSource: ...


class PodSource(EventFeed, Protocol):
    """The drill's pods as last seen, and their change events (``PodWatcher``)."""

    def current(self) -> dict[str, PodSnapshot]: ...

    def raw(self, name: str) -> dict[str, Any] | None: ...


class ObjectReader(Protocol):
    """The reads object conditions make (``harness.kube.client.Cluster``)."""

    def statefulset(self, name: str) -> dict[str, Any] | None: ...

    def pvc(self, name: str) -> dict[str, Any] | None: ...

    def pdb(self, name: str) -> dict[str, Any] | None: ...

    def endpoints(self, name: str) -> dict[str, Any] | None: ...

    def pod(self, name: str) -> dict[str, Any] | None: ...

    def pods(self, selector: str | None = None) -> list[dict[str, Any]]: ...

    def try_evict(self, pod: str) -> EvictionAnswer: ...

    def node(self, name: str) -> dict[str, Any] | None: ...


def _feed(events: EventFeed | None) -> EventSource | None:
    return events.subscribe() if events is not None else None


def running_ready(snap: PodSnapshot) -> bool:
    """kubectl's ``1/1 Running``: the Ready condition is True and the pod is not going away."""
    return snap.ready and snap.status == "Running" and not snap.deleting


def _give_up_if_stuck(pods: PodSource, watch: StartWatch, names: Sequence[str]) -> None:
    """Raise ``PodCannotStart`` for the first of ``names`` stuck for a reason waiting will not
    fix (see ``harness.model.stuck``): a wait for Ready must not sit out its timeout then."""
    now = time.monotonic()
    for name in names:
        blocker = watch.blocker(pods.raw(name), now)
        if blocker is not None:
            raise PodCannotStart(name, blocker.describe())


# -- pods, read from the watcher (no API call per check) -------------------------------------


def giving_up_when_stuck(condition: Condition, pods: PodSource, names: Sequence[str]
                         ) -> Condition:
    """``condition``, which also gives up (``PodCannotStart``) as soon as one of ``names``
    is stuck for a reason waiting will not fix: what ``Drill.wait`` makes of every rollout
    and pod-readiness wait, e.g. a rolling upgrade to an image that cannot be pulled."""
    watch = StartWatch()

    def check() -> Progress:
        current = pods.current()
        _give_up_if_stuck(pods, watch, [n for n in names
                                        if n in current and not running_ready(current[n])])
        return condition()

    return Condition(check, condition.description, condition.events, condition.timeout_class)


def pods_ready(pods: PodSource, count: int, names: Sequence[str] | None = None) -> Condition:
    """Exactly ``count`` pods exist (``names`` when given) and all are Running and Ready."""

    def check() -> Progress:
        current = pods.current()
        wanted = list(names) if names is not None else sorted(current)
        ready = [n for n in wanted if n in current and running_ready(current[n])]
        done = len(ready) == count == len(wanted) and (names is not None or len(current) == count)
        detail = f"{len(ready)}/{count} Running and Ready"
        not_ready = [current[n].row() if n in current else f"{n} absent"
                     for n in wanted if n not in ready]
        extra = sorted(set(current) - set(wanted)) if names is not None else []
        if not_ready:
            detail += "; not yet: " + ", ".join(not_ready)
        if extra:
            detail += "; also present: " + ", ".join(current[n].row() for n in extra)
        return Progress(done, detail)

    label = f"{count} pods Running and Ready" + (f" ({', '.join(names)})" if names else "")
    return Condition(check, label, pods.subscribe(), ROLLOUT)


def pod_running_ready(pods: PodSource, name: str) -> Condition:
    """``name`` is Running and Ready."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.waiting(f"{name} does not exist")
        return Progress(running_ready(snap), snap.row())

    return Condition(check, f"{name} Running and Ready", pods.subscribe(), POD_READY)


def pod_exists(pods: PodSource, name: str, *, not_uid: str | None = None) -> Condition:
    """The pod exists (a new incarnation, when ``not_uid`` names the old one)."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.waiting(f"{name} does not exist")
        if not_uid is not None and snap.uid == not_uid:
            return Progress.waiting(f"{name} is still the old pod (uid {not_uid[:8]})")
        return Progress.ok(snap.row())

    return Condition(check, f"{name} to exist", pods.subscribe(), STEP)


def pod_gone(pods: PodSource, name: str, uid: str | None = None) -> Condition:
    """The pod (that incarnation, when ``uid`` is given) no longer exists."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.ok(f"{name} is gone")
        if uid is not None and snap.uid != uid:
            return Progress.ok(f"{name} uid {uid[:8]} is gone; a new one exists: {snap.row()}")
        return Progress.waiting(f"{name} still exists: {snap.row()}")

    return Condition(check, f"{name} to be deleted", pods.subscribe(), STEP)


def pods_gone(pods: PodSource, names: Sequence[str] | None = None) -> Condition:
    """None of ``names`` (or no pod at all) exists any more."""

    def check() -> Progress:
        current = pods.current()
        left = [current[n] for n in (names or sorted(current)) if n in current]
        if not left:
            return Progress.ok("no pods left")
        return Progress.waiting("still present: " + ", ".join(s.row() for s in left))

    label = "pods " + (", ".join(names) if names else "(all)") + " to terminate"
    return Condition(check, label, pods.subscribe(), ROLLOUT)


def pod_restarted(
    pods: PodSource, name: str, previous_count: int, *, ready: bool = True
) -> Condition:
    """RESTARTS went above ``previous_count`` (same pod), and it is Ready again if asked."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.waiting(f"{name} does not exist")
        restarted = snap.restarts > previous_count
        done = restarted and (running_ready(snap) if ready else True)
        return Progress(done, f"{snap.row()} (restarts were {previous_count})")

    what = f"{name} to restart" + (" and be Ready again" if ready else "")
    return Condition(check, what, pods.subscribe(), POD_READY)


def pod_unschedulable(pods: PodSource, name: str) -> Condition:
    """``name`` is Pending with ``PodScheduled=False`` (reason Unschedulable)."""
    return Condition(lambda: _unschedulable(pods, name), f"{name} to be Pending, unschedulable",
                     pods.subscribe(), STEP)


def _unschedulable(pods: PodSource, name: str) -> Progress:
    raw = pods.raw(name)
    if raw is None:
        return Progress.waiting(f"{name} does not exist")
    status = raw.get("status") or {}
    scheduled: dict[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), {})
    detail = (f"{name} {status.get('phase')}, PodScheduled={scheduled.get('status', '?')} "
              f"{scheduled.get('reason', '')}: {scheduled.get('message', '')}").strip()
    done = (status.get("phase") == "Pending" and not (raw.get("spec") or {}).get("nodeName")
            and scheduled.get("status") == "False"
            and scheduled.get("reason") == "Unschedulable")
    return Progress(done, detail)


def pod_placed(pods: PodSource, name: str, uid: str) -> Condition:
    """The scheduler decided about the new ``name`` (not ``uid``): Pending and unschedulable,
    or bound to a node; the drill then judges which (soft anti-affinity binds it)."""
    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None or snap.uid == uid:
            return Progress.waiting(f"{name} not re-created yet")
        if snap.node:
            return Progress.ok(f"{name} scheduled on {snap.node}: {snap.row()}")
        return _unschedulable(pods, name)

    return Condition(check, f"{name} placed by the scheduler (Pending or on a node)",
                     pods.subscribe(), STEP)


def ready_elsewhere(pods: PodSource, name: str, uid: str, avoid: set[str]) -> Condition:
    """A new ``name`` (not ``uid``) Running and Ready on a node not in ``avoid``."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.waiting(f"{name} does not exist")
        done = snap.uid != uid and running_ready(snap) and snap.node not in avoid
        return Progress(done, f"{snap.row()} on {snap.node or '(no node)'}")

    return Condition(check, f"{name} rescheduled, Running and Ready", pods.subscribe(),
                     POD_READY)


# -- objects, read from the API on each check, woken by the pod events that accompany them -----


def statefulset_rolled_out(events: EventFeed | None, cluster: ObjectReader, name: str
                           ) -> Condition:
    """``kubectl rollout status sts/<name>`` would exit 0 (observedGeneration checked first)."""

    def check() -> Progress:
        sts = cluster.statefulset(name)
        if sts is None:
            return Progress.waiting(f"statefulset {name} does not exist")
        return rollout_progress(sts)

    return Condition(check, f"statefulset {name} rolled out", _feed(events), ROLLOUT)


def statefulset_at_rest(events: EventFeed | None, cluster: ObjectReader, name: str
                        ) -> Condition:
    """Rolled out (``rollout status``), or under ``OnDelete`` observed with every replica
    ready: what the steady state needs, whatever the set's update strategy."""

    def check() -> Progress:
        sts = cluster.statefulset(name)
        if sts is None:
            return Progress.waiting(f"statefulset {name} does not exist")
        return steady_progress(sts)

    return Condition(check, f"statefulset {name} at rest", _feed(events), ROLLOUT)


def rollout_settled(events: EventFeed | None, cluster: ObjectReader, name: str) -> Condition:
    """Every replica updated, Ready and labelled with the update revision.

    Stricter than ``kubectl rollout status`` (which only compares the current and update
    revisions): after a template is restored mid-rollout those agree at once, while a pod
    of the abandoned revision is still waiting to be replaced.
    """

    def check() -> Progress:
        sts = cluster.statefulset(name)
        if sts is None:
            return Progress.waiting(f"statefulset {name} does not exist")
        if not is_complete(sts):
            return Progress.waiting(rollout_progress(sts).detail)
        revision = (sts.get("status") or {}).get("updateRevision")
        labels = sts["spec"]["selector"].get("matchLabels") or {}
        selector = selector_string(labels)
        behind = [p["metadata"]["name"] for p in cluster.pods(selector)
                  if (p["metadata"].get("labels") or {}).get("controller-revision-hash")
                  != revision or not is_pod_ready(p)]
        if behind:
            return Progress.waiting(f"not yet Ready at {revision}: {', '.join(sorted(behind))}")
        return Progress.ok(f"every pod Ready at {revision}")

    return Condition(check, f"statefulset {name} settled on its update revision",
                     _feed(events), ROLLOUT)


def new_revision(events: EventFeed | None, cluster: ObjectReader, name: str, old: str
                 ) -> Condition:
    """The controller observed the set's new spec and computed an update revision != ``old``;
    done's detail is that revision."""

    def check() -> Progress:
        sts = cluster.statefulset(name)
        if sts is None:
            return Progress.waiting(f"statefulset {name} does not exist")
        status = sts.get("status") or {}
        observed = int(status.get("observedGeneration") or 0)
        generation = int(sts["metadata"].get("generation") or 0)
        revision = str(status.get("updateRevision") or "")
        if observed < generation or revision in ("", old):
            return Progress.waiting(f"observedGeneration {observed}/{generation}, "
                                    f"updateRevision {revision or '-'}")
        return Progress.ok(revision)

    return Condition(check, f"statefulset {name}: the controller computes the new revision",
                     _feed(events), STEP)


def container_replaced(events: EventFeed | None, cluster: ObjectReader, pod: str,
                       container: str, old_id: str) -> Condition:
    """``container`` of ``pod`` runs under a new container ID (restarted), or the pod is gone."""

    def check() -> Progress:
        current = cluster.pod(pod)
        if current is None:
            return Progress.ok(f"{pod} is gone")
        statuses = (current.get("status") or {}).get("containerStatuses") or []
        status: dict[str, Any] = next((s for s in statuses if s.get("name") == container), {})
        new_id = status.get("containerID", "")
        running = "running" in (status.get("state") or {})
        return Progress(bool(new_id) and new_id != old_id and running,
                        f"{pod}/{container}: containerID {new_id[-12:] or '-'}, "
                        f"restartCount {status.get('restartCount', 0)}")

    return Condition(check, f"{pod} to restart its {container} container", _feed(events),
                     POD_READY)


def pvcs_bound(events: EventFeed | None, cluster: ObjectReader, names: Sequence[str]
               ) -> Condition:
    """Every named PersistentVolumeClaim exists and is Bound."""

    def check() -> Progress:
        states = []
        for name in names:
            pvc = cluster.pvc(name)
            phase = "absent" if pvc is None else (pvc.get("status") or {}).get("phase", "?")
            states.append((name, phase))
        bad = [f"{n} {p}" for n, p in states if p != "Bound"]
        detail = f"{len(states) - len(bad)}/{len(states)} Bound"
        return Progress(not bad, detail + (f"; {', '.join(bad)}" if bad else ""))

    return Condition(check, f"claims {', '.join(names)} Bound", _feed(events), STEP)


def in_endpoints(events: EventFeed | None, cluster: ObjectReader, service: str, pod: str,
                 state: str) -> Condition:
    """``pod`` is listed in the ``service`` Endpoints as ``state`` (ready/notReady/absent)."""

    def check() -> Progress:
        seen = endpoint_state(cluster.endpoints(service), pod)
        return Progress(seen == state, f"{pod} is {seen} in endpoints/{service}")

    return Condition(check, f"{pod} to be {state} in endpoints/{service}", _feed(events), STEP)


def budget_allows(events: EventFeed | None, cluster: ObjectReader, name: str, allowed: int
                  ) -> Condition:
    """``kubectl get pdb NAME`` shows ALLOWED DISRUPTIONS ``allowed`` (status observed)."""

    def check() -> Progress:
        pdb = cluster.pdb(name) or {}
        status = pdb.get("status") or {}
        seen = status.get("disruptionsAllowed")
        observed = int(status.get("observedGeneration") or 0) >= int(
            (pdb.get("metadata") or {}).get("generation") or 0)
        return Progress(observed and seen == allowed,
                        f"pdb/{name}: disruptionsAllowed {seen}, currentHealthy "
                        f"{status.get('currentHealthy')}, desiredHealthy "
                        f"{status.get('desiredHealthy')}")

    return Condition(check, f"pdb/{name} to allow {allowed} disruption(s)", _feed(events), STEP)


def eviction_refused(events: EventFeed | None, cluster: ObjectReader, pod: str) -> Condition:
    """One real eviction attempt per check: done while the API refuses it (429).

    An allowed attempt evicts the pod, which is exactly the failure the drill looks for.
    """

    def check() -> Progress:
        answer = cluster.try_evict(pod)
        return Progress(answer.refused, answer.describe())

    return Condition(check, f"the eviction of {pod} to be refused", _feed(events), STEP)


# -- ZooKeeper -----------------------------------------------------------------------------------


def ensemble_serving(events: EventFeed | None, modes: Callable[[], Mapping[str, str]],
                     expected: int) -> Condition:
    """One leader, every other server a follower, as ``srvr`` reports (quorum formed)."""

    def check() -> Progress:
        return assess_ensemble(modes(), expected).as_progress()

    return Condition(check, f"a ZooKeeper ensemble of {expected} with one leader",
                     _feed(events), POD_READY)


def new_leader(events: EventFeed | None, modes: Callable[[], Mapping[str, str]], old: str,
               expected: int) -> Condition:
    """A server other than ``old`` leads, and a quorum (the leader included) serves."""

    def check() -> Progress:
        seen = dict(modes())
        leaders = sorted(p for p, m in seen.items() if m == "leader")
        serving = [p for p, m in seen.items() if m in ("leader", "follower")]
        done = len(leaders) == 1 and leaders[0] != old and 2 * len(serving) > expected
        return Progress(done, ", ".join(f"{p} {m}" for p, m in sorted(seen.items())))

    return Condition(check, f"a new leader other than {old}", _feed(events), POD_READY)


def node_ready(events: EventFeed | None, cluster: NodeReader, node: str, *, ready: bool = True
               ) -> Condition:
    """``kubectl get node``: the node's Ready condition is True (or, ``ready=False``, not)."""

    def check() -> Progress:
        found = cluster.node(node)
        if found is None:
            return Progress.waiting(f"node/{node} does not exist")
        conditions = (found.get("status") or {}).get("conditions") or []
        cond: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
        status = str(cond.get("status", "?"))
        taints = ", ".join(f"{t.get('key')}:{t.get('effect')}"
                           for t in (found.get("spec") or {}).get("taints") or [])
        detail = (f"node/{node} Ready={status} ({cond.get('reason', '')}"
                  f"{': ' + str(cond.get('message')) if cond.get('message') else ''})"
                  + (f"; taints {taints}" if taints else ""))
        return Progress((status == "True") == ready, detail)

    what = "Ready" if ready else "NotReady"
    return Condition(check, f"node/{node} {what}", _feed(events), STEP)


class NodeReader(Protocol):
    def node(self, name: str) -> dict[str, Any] | None: ...


def pod_unready(pods: PodSource, name: str, uid: str) -> Condition:
    """The same pod (``uid``) still exists, with its Ready condition no longer True."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None or snap.uid != uid:
            return Progress.waiting(f"{name} uid {uid[:8]} is gone")
        return Progress(not snap.ready, snap.row())

    return Condition(check, f"{name} to be marked not ready", pods.subscribe(), STEP)


def pod_terminating(pods: PodSource, name: str, uid: str) -> Condition:
    """The same pod (``uid``) has a deletionTimestamp (``Terminating``) and still exists."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None or snap.uid != uid:
            return Progress.waiting(f"{name} uid {uid[:8]} is gone")
        return Progress(snap.deleting, snap.row())

    return Condition(check, f"{name} to be marked for deletion", pods.subscribe(), STEP)


def followers_synced(events: EventFeed | None, leader_metrics: Callable[[], Mapping[str, Any]],
                     expected: int) -> Condition:
    """The leader's ``mntr`` counts ``expected - 1`` synced followers: every server is back in
    the ensemble with its data caught up (Ready only means it answers ``ruok``)."""

    def check() -> Progress:
        metrics = leader_metrics()
        synced = metrics.get("zk_synced_followers")
        state = metrics.get("zk_server_state", "?")
        done = state == "leader" and synced is not None and int(synced) == expected - 1
        return Progress(done, f"leader {state}: zk_synced_followers={synced} of "
                              f"{expected - 1}")

    return Condition(check, f"{expected - 1} followers synced with the leader", _feed(events),
                     POD_READY)


def quorum_without(events: EventFeed | None, modes: Callable[[], Mapping[str, str]],
                   gone: str, expected: int) -> Condition:
    """The servers other than ``gone`` have one leader and, with it, a quorum serving."""

    def check() -> Progress:
        seen = {p: m for p, m in modes().items() if p != gone}
        leaders = [p for p, m in seen.items() if m == "leader"]
        serving = [p for p, m in seen.items() if m in ("leader", "follower")]
        done = len(leaders) == 1 and 2 * len(serving) > expected
        return Progress(done, ", ".join(f"{p} {m}" for p, m in sorted(seen.items())))

    return Condition(check, f"a quorum without {gone}", _feed(events), POD_READY)
