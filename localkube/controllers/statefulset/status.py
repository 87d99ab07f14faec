"""``status`` of a StatefulSet: counted from its pods, written only when it changes.

Field presence follows Go's JSON tags (``omitempty`` on most counters), so a fresh set reads
``{"replicas": 0, "availableReplicas": 0, …}`` as on a real cluster, while ``collisionCount``
is always present once the controller has seen the set.
"""

from __future__ import annotations

from dataclasses import dataclass

from localkube.controllers.statefulset import pods as P
from localkube.controllers.statefulset.identity import pod_revision, replicas_of


@dataclass
class SetStatus:
    observed_generation: int = 0
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    current_replicas: int = 0
    updated_replicas: int = 0
    current_revision: str = ""
    update_revision: str = ""
    collision_count: int = 0

    def count(self, pods: list[dict], min_ready: int, now: float) -> None:
        """``updateStatus``: recount every counter from `pods` (uncreated ones count nowhere)."""
        self.replicas = self.ready_replicas = self.available_replicas = 0
        self.current_replicas = self.updated_replicas = 0
        for pod in pods:
            created = P.is_created(pod)
            self.replicas += created
            if P.is_running_ready(pod):
                self.ready_replicas += 1
                self.available_replicas += P.is_available(pod, min_ready, now)
            if created and not P.is_terminating(pod):
                revision = pod_revision(pod)
                self.current_replicas += revision == self.current_revision
                self.updated_replicas += revision == self.update_revision

    def complete_rolling_update(self, sts: dict) -> None:
        """Every wanted pod updated and ready: the update revision becomes the current one."""
        wanted = replicas_of(sts)
        if ((sts["spec"].get("updateStrategy") or {}).get("type") == "RollingUpdate"
                and self.updated_replicas == wanted and self.ready_replicas == wanted
                and self.replicas == wanted):
            self.current_replicas = self.updated_replicas
            self.current_revision = self.update_revision

    def differs_from(self, stored: dict) -> bool:
        """``inconsistentStatus``: is a write needed?"""
        old = from_api(stored)
        return (self.observed_generation > old.observed_generation
                or (self.replicas, self.current_replicas, self.ready_replicas,
                    self.updated_replicas, self.current_revision, self.available_replicas,
                    self.update_revision)
                != (old.replicas, old.current_replicas, old.ready_replicas,
                    old.updated_replicas, old.current_revision, old.available_replicas,
                    old.update_revision))

    def to_api(self) -> dict:
        """The JSON the apiserver would hold, in Go's field order and omitempty rules."""
        out: dict = {}
        if self.observed_generation:
            out["observedGeneration"] = self.observed_generation
        out["replicas"] = self.replicas
        for key, value in (("readyReplicas", self.ready_replicas),
                           ("currentReplicas", self.current_replicas),
                           ("updatedReplicas", self.updated_replicas),
                           ("currentRevision", self.current_revision),
                           ("updateRevision", self.update_revision)):
            if value:
                out[key] = value
        out["collisionCount"] = self.collision_count
        out["availableReplicas"] = self.available_replicas
        return out


def from_api(status: dict | None) -> SetStatus:
    s = status or {}
    return SetStatus(
        observed_generation=int(s.get("observedGeneration") or 0),
        replicas=int(s.get("replicas") or 0),
        ready_replicas=int(s.get("readyReplicas") or 0),
        available_replicas=int(s.get("availableReplicas") or 0),
        current_replicas=int(s.get("currentReplicas") or 0),
        updated_replicas=int(s.get("updatedReplicas") or 0),
        current_revision=str(s.get("currentRevision") or ""),
        update_revision=str(s.get("updateRevision") or ""),
        collision_count=int(s.get("collisionCount") or 0),
    )
