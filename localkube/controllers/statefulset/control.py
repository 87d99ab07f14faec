"""One pass of the StatefulSet controller over one set (``UpdateStatefulSet``).

The pass is synchronous: it reads the store and writes through the registry without awaiting,
so it is atomic with respect to every other component in the process. It never sleeps; when
only time can make progress (``minReadySeconds``) it reports how long to wait.
"""

from __future__ import annotations

from collections.abc import Callable

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.controllers.statefulset import pods as P
from localkube.controllers.statefulset import revisions as V
from localkube.controllers.statefulset.identity import (
    ordinal_of,
    pod_revision,
    replicas_of,
    start_ordinal,
)
from localkube.controllers.statefulset.podcontrol import PodControl, SyncError
from localkube.controllers.statefulset.status import SetStatus
from localkube.registry import Registry


class SetPass:
    """Revisions, pod creation/deletion, rolling update, status and history for one set."""

    def __init__(self, registry: Registry, sts: dict, pods: list[dict],
                 revisions: list[dict], now: float) -> None:
        self.registry = registry
        self.sts = sts
        self.ns = sts["metadata"].get("namespace", "")
        self.pods = pods
        self.revisions = V.sort_revisions(revisions)
        self.now = now
        self.control = PodControl(registry, sts)
        self.min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        self.monotonic = sts["spec"].get("podManagementPolicy") != "Parallel"

    def run(self) -> SetStatus:
        """The whole pass; status is written even when pod work failed, then errors re-raise."""
        current, update, collisions = self.resolve_revisions()
        status, error = self.update(current, update, collisions)
        self.write_status(status)
        self.truncate_history(current, update)
        if error is not None:
            raise error
        return status

    # -- revisions ---------------------------------------------------------------------------
    def resolve_revisions(self) -> tuple[dict, dict, int]:
        """``getStatefulSetRevisions``: reuse, roll back to (bump) or create the update revision."""
        revs = self.revisions
        collisions = int((self.sts.get("status") or {}).get("collisionCount") or 0)
        wanted = V.new_revision(self.sts, V.next_revision(revs), collisions)
        equal = [r for r in revs if V.equal_revision(r, wanted)]
        if equal and V.equal_revision(revs[-1], equal[-1]):
            update = revs[-1]
        elif equal:
            update = self.bump(equal[-1], wanted["revision"])
        else:
            update, collisions = self.create_revision(wanted, collisions)
        name = (self.sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revs if r["metadata"]["name"] == name), update)
        return current, update, collisions

    def bump(self, rev: dict, number: int) -> dict:
        """A rollback: the old revision becomes the newest by taking the next number."""
        def renumber(obj: dict) -> None:
            obj["revision"] = number

        updated = self.registry.mutate(R.REVISIONS, self.ns, rev["metadata"]["name"], renumber)
        if updated is None:
            raise SyncError(f"controllerrevision {rev['metadata']['name']} disappeared")
        return updated

    def create_revision(self, rev: dict, collisions: int) -> tuple[dict, int]:
        """Create under ``<set>-<hash>``; a name taken by different data bumps collisionCount."""
        while True:
            name = V.revision_name(self.sts["metadata"]["name"],
                                   V.hash_data(rev["data"], collisions))
            rev["metadata"]["name"] = name
            try:
                return self.registry.create(R.REVISIONS, self.ns, rev), collisions
            except ApiError as exc:
                if exc.reason != "AlreadyExists":
                    raise
            existing = self.registry.get(R.REVISIONS, self.ns, name)
            if V.go_json(existing.get("data")) == V.go_json(rev["data"]):
                return existing, collisions
            collisions += 1

    def truncate_history(self, current: dict, update: dict) -> None:
        """Delete the oldest revisions no pod uses beyond ``revisionHistoryLimit``."""
        live = {current["metadata"]["name"], update["metadata"]["name"]}
        live.update(pod_revision(p) for p in self.pods)
        history = [r for r in self.revisions if r["metadata"]["name"] not in live]
        limit = self.sts["spec"].get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        if limit < 0 or len(history) <= limit:
            return
        for rev in history[: len(history) - limit]:
            try:
                self.registry.delete(R.REVISIONS, self.ns, rev["metadata"]["name"], {})
            except ApiError as exc:
                if exc.code != 404:
                    raise

    # -- pods ------------------------------------------------------------------------------
    def new_pod(self, ordinal: int, current: dict, update: dict) -> dict:
        """``newVersionedStatefulSetPod``: below partition (or currentReplicas) stays current."""
        strategy = self.sts["spec"].get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate")
        start = start_ordinal(self.sts)
        current_replicas = int((self.sts.get("status") or {}).get("currentReplicas") or 0)
        use_current = (
            (strategy.get("type") == "RollingUpdate" and rolling is None
             and ordinal < start + current_replicas)
            or (rolling is not None
                and ordinal < start + int((rolling or {}).get("partition") or 0))
        )
        rev = current if use_current else update
        return P.new_pod(self.sts, V.template_of(rev), ordinal, rev["metadata"]["name"])

    def unavailable(self, pod: dict) -> bool:
        return P.is_unavailable(pod, self.min_ready, self.now)

    def update(self, current: dict, update: dict,
               collisions: int) -> tuple[SetStatus, Exception | None]:
        """``updateStatefulSet``: returns the status to record and the error, if any."""
        status = SetStatus(
            observed_generation=int(self.sts["metadata"].get("generation") or 0),
            current_revision=current["metadata"]["name"],
            update_revision=update["metadata"]["name"],
            collision_count=collisions,
        )
        status.count(self.pods, self.min_ready, self.now)
        start, count = start_ordinal(self.sts), replicas_of(self.sts)
        replicas: list[dict | None] = [None] * count
        condemned: list[dict] = []
        for pod in self.pods:
            ordinal = ordinal_of(pod)
            if start <= ordinal < start + count:
                replicas[ordinal - start] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        slots = [pod or self.new_pod(start + i, current, update) for i, pod in enumerate(replicas)]
        condemned.sort(key=ordinal_of, reverse=True)
        first_unavailable = next((p for p in slots if self.unavailable(p)), None) or next(
            (p for p in reversed(condemned) if self.unavailable(p)), None)
        if self.sts["metadata"].get("deletionTimestamp"):
            return status, None
        try:
            if (self.for_all(slots, self.process_replica)
                    or self.for_all(condemned, self.fix_claims)
                    or self.for_all(condemned,
                                    lambda pod: self.process_condemned(pod, first_unavailable))):
                status.count(slots + condemned, self.min_ready, self.now)
                return status, None
            status.count(slots + condemned, self.min_ready, self.now)
            strategy = self.sts["spec"].get("updateStrategy") or {}
            if strategy.get("type") == "OnDelete":
                return status, None
            self.rolling_update(slots, update, status)
        except (ApiError, SyncError) as exc:
            status.count(slots + condemned, self.min_ready, self.now)
            return status, exc
        return status, None

    def for_all(self, pods: list[dict], fn: Callable[[dict], bool]) -> bool:
        """Monotonic: stop at the first pod that blocks. Parallel: every pod, errors after."""
        errors: list[Exception] = []
        for pod in pods:
            if self.monotonic:
                if fn(pod):
                    return True
                continue
            try:
                fn(pod)
            except (ApiError, SyncError) as exc:
                errors.append(exc)
        if errors:
            raise SyncError.of([str(e) for e in errors])
        return False

    def process_replica(self, pod: dict) -> bool:
        """One in-range slot; True means "stop here" (OrderedReady must wait)."""
        phase = P.phase(pod)
        if phase in ("Failed", "Succeeded"):
            if not P.is_terminating(pod):
                self.control.delete_pod(pod)
            return True  # recreated once the old pod is gone
        if not P.is_created(pod):
            if self.control.claim_is_stale(pod):
                return True
            self.control.create_pod(pod)
            return self.monotonic
        if phase == "Pending":
            self.control.create_missing_claims(pod)
        if self.monotonic and (P.is_terminating(pod) or not P.is_running_ready(pod)
                               or not P.is_available(pod, self.min_ready, self.now)):
            return True
        if (P.identity_matches(self.sts, pod) and P.storage_matches(self.sts, pod)
                and self.control.claims_match_policy(pod)):
            return False
        self.control.update_pod(pod)
        return False

    def fix_claims(self, pod: dict) -> bool:
        if not self.control.claims_match_policy(pod):
            self.control.update_claims_for_policy(pod)
        return False

    def process_condemned(self, pod: dict, first_unavailable: dict | None) -> bool:
        """Scale down: highest ordinal first; OrderedReady waits for each to be gone."""
        if P.is_terminating(pod):
            return self.monotonic
        if self.monotonic and pod is not first_unavailable and (
                not P.is_running_ready(pod) or not P.is_available(pod, self.min_ready, self.now)):
            return True
        self.control.delete_pod(pod)
        return True

    def rolling_update(self, slots: list[dict], update: dict, status: SetStatus) -> None:
        """Replace the highest-ordinal outdated pod, down to the partition, one at a time."""
        rolling = (self.sts["spec"].get("updateStrategy") or {}).get("rollingUpdate")
        lowest = int((rolling or {}).get("partition") or 0) if rolling is not None else 0
        for target in range(len(slots) - 1, lowest - 1, -1):
            pod = slots[target]
            if pod_revision(pod) != update["metadata"]["name"] and not P.is_terminating(pod):
                try:
                    self.control.delete_pod(pod)
                except ApiError as exc:
                    if exc.code != 404:
                        raise
                status.current_replicas -= 1
                return
            if self.unavailable(pod):
                return

    # -- status --------------------------------------------------------------------------
    def write_status(self, status: SetStatus) -> None:
        """PUT …/status when something changed (``updateStatefulSetStatus``)."""
        status.complete_rolling_update(self.sts)
        if not status.differs_from(self.sts.get("status") or {}):
            return
        uid = self.sts["metadata"]["uid"]

        def put(obj: dict) -> bool:
            if obj["metadata"].get("uid") != uid:
                return False
            obj["status"] = status.to_api()
            return True

        self.registry.mutate(R.STATEFULSETS, self.ns, self.sts["metadata"]["name"], put,
                             subresource="status")

    def requeue_after(self) -> float | None:
        """Seconds until a ready pod becomes available (minReadySeconds), if any is waiting."""
        if self.min_ready <= 0:
            return None
        waits = [P.available_after(p, self.min_ready, self.now) for p in self.pods]
        pending = [w for w in waits if w]
        return min(pending) + 0.01 if pending else None
