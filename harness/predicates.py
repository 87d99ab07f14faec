"""Named wait conditions: each returns a ``Condition`` for ``harness.waits.wait_for``.

A condition's check answers ``Progress(done, detail)`` where the detail says what is still
missing in kubectl's words ("2/3 Running and Ready; zk-2 0/1 ContainerCreating 0"), so a
``WaitTimeout`` names the last state seen. Pod conditions read the drill's ``PodWatcher``
(no API call per check) and wake on its events; object conditions (StatefulSet, PVCs) GET
the object on each check and wake on the pod events that usually accompany their changes,
with the periodic re-check as the safety net.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from harness.model.pod_status import PodSnapshot
from harness.model.progress import Progress
from harness.model.quorum import assess_ensemble
from harness.model.rollout import rollout_progress
from harness.waits import Condition, EventSource


class PodSource(Protocol):
    """What pod conditions need: the latest pods, and a feed of changes (``PodWatcher``)."""

    def current(self) -> dict[str, PodSnapshot]: ...

    def subscribe(self) -> EventSource: ...


class ObjectReader(Protocol):
    """What object conditions need (``Cluster``)."""

    def statefulset(self, name: str) -> dict[str, Any] | None: ...

    def pvc(self, name: str) -> dict[str, Any] | None: ...


def running_ready(snap: PodSnapshot) -> bool:
    """kubectl's ``1/1 Running``: the Ready condition is True and the pod is not going away."""
    return snap.ready and snap.status == "Running" and not snap.deleting


def pods_ready(pods: PodSource, count: int, names: Sequence[str] | None = None) -> Condition:
    """Exactly ``count`` pods exist (``names`` when given) and all are Running and Ready."""

    def check() -> Progress:
        current = pods.current()
        wanted = list(names) if names is not None else sorted(current)
        ready = [n for n in wanted if n in current and running_ready(current[n])]
        done = len(ready) == count == len(wanted) and (names is not None or len(current) == count)
        detail = f"{len(ready)}/{count} Running and Ready"
        waiting = [current[n].row() if n in current else f"{n} absent" for n in wanted]
        not_ready = [row for n, row in zip(wanted, waiting, strict=True) if n not in ready]
        extra = sorted(set(current) - set(wanted)) if names is not None else []
        if not_ready:
            detail += "; not yet: " + ", ".join(not_ready)
        if extra:
            detail += "; also present: " + ", ".join(current[n].row() for n in extra)
        return Progress(done, detail)

    label = f"{count} pods Running and Ready" + (f" ({', '.join(names)})" if names else "")
    return Condition(check, label, pods.subscribe())


def pod_running_ready(pods: PodSource, name: str) -> Condition:
    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.waiting(f"{name} does not exist")
        return Progress(running_ready(snap), snap.row())

    return Condition(check, f"{name} Running and Ready", pods.subscribe())


def pod_exists(pods: PodSource, name: str, *, not_uid: str | None = None) -> Condition:
    """The pod exists (a new incarnation, when ``not_uid`` names the old one)."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.waiting(f"{name} does not exist")
        if not_uid is not None and snap.uid == not_uid:
            return Progress.waiting(f"{name} is still the old pod (uid {not_uid[:8]})")
        return Progress.ok(snap.row())

    return Condition(check, f"{name} to exist", pods.subscribe())


def pod_gone(pods: PodSource, name: str, uid: str | None = None) -> Condition:
    """The pod (that incarnation, when ``uid`` is given) no longer exists."""

    def check() -> Progress:
        snap = pods.current().get(name)
        if snap is None:
            return Progress.ok(f"{name} is gone")
        if uid is not None and snap.uid != uid:
            return Progress.ok(f"{name} uid {uid[:8]} is gone; a new one exists: {snap.row()}")
        return Progress.waiting(f"{name} still exists: {snap.row()}")

    return Condition(check, f"{name} to be deleted", pods.subscribe())


def pods_gone(pods: PodSource, names: Sequence[str] | None = None) -> Condition:
    """None of ``names`` (or no pod at all) exists any more."""

    def check() -> Progress:
        current = pods.current()
        left = [current[n] for n in (names or sorted(current)) if n in current]
        if not left:
            return Progress.ok("no pods left")
        return Progress.waiting("still present: " + ", ".join(s.row() for s in left))

    label = "pods " + (", ".join(names) if names else "(all)") + " to terminate"
    return Condition(check, label, pods.subscribe())


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
    return Condition(check, what, pods.subscribe())


def statefulset_rolled_out(
    cluster: ObjectReader, name: str, events: EventSource | None = None
) -> Condition:
    """``kubectl rollout status sts/<name>`` would exit 0 (observedGeneration checked first)."""

    def check() -> Progress:
        sts = cluster.statefulset(name)
        if sts is None:
            return Progress.waiting(f"statefulset {name} does not exist")
        return rollout_progress(sts)

    return Condition(check, f"statefulset {name} rolled out", events)


def pvcs_bound(
    cluster: ObjectReader, names: Sequence[str], events: EventSource | None = None
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

    return Condition(check, f"claims {', '.join(names)} Bound", events)


def ensemble_healthy(
    modes: Callable[[], Mapping[str, str]], expected: int, events: EventSource | None = None
) -> Condition:
    """One leader, every other server a follower, as ``srvr`` reports (quorum formed)."""

    def check() -> Progress:
        return assess_ensemble(modes(), expected).as_progress()

    return Condition(check, f"a ZooKeeper ensemble of {expected} with one leader", events)
