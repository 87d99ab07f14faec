"""StatefulSet rollout math used to judge an update (pure, no I/O).

Input is a StatefulSet dict (API JSON camelCase or ``to_dict()`` snake_case). The rules are
those of ``kubectl rollout status`` and the StatefulSet controller: never trust ``status``
before ``observedGeneration >= generation``; a RollingUpdate replaces pods one at a time from
the highest ordinal down to the partition; it is complete when the update revision has become
the current one with every replica updated and ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.model._fields import get, get_int
from harness.model.progress import Progress


@dataclass(frozen=True)
class RolloutState:
    """The fields of a StatefulSet that a rollout judgement needs."""

    name: str
    generation: int
    observed_generation: int | None
    spec_replicas: int
    replicas: int
    ready_replicas: int
    updated_replicas: int
    current_replicas: int
    current_revision: str
    update_revision: str
    strategy: str
    partition: int | None  # None when the manifest has no rollingUpdate block (the tutorial's)

    @classmethod
    def of(cls, statefulset: Any) -> RolloutState:
        spec_replicas = get(statefulset, "spec", "replicas")
        observed = get(statefulset, "status", "observedGeneration")
        partition = get(statefulset, "spec", "updateStrategy", "rollingUpdate", "partition")
        return cls(
            name=get(statefulset, "metadata", "name") or "",
            generation=get_int(statefulset, "metadata", "generation"),
            observed_generation=None if observed is None else int(observed),
            spec_replicas=1 if spec_replicas is None else int(spec_replicas),
            replicas=get_int(statefulset, "status", "replicas"),
            ready_replicas=get_int(statefulset, "status", "readyReplicas"),
            updated_replicas=get_int(statefulset, "status", "updatedReplicas"),
            current_replicas=get_int(statefulset, "status", "currentReplicas"),
            current_revision=get(statefulset, "status", "currentRevision") or "",
            update_revision=get(statefulset, "status", "updateRevision") or "",
            strategy=get(statefulset, "spec", "updateStrategy", "type") or "RollingUpdate",
            partition=None if partition is None else int(partition),
        )

    @property
    def observed(self) -> bool:
        """The controller has seen the current spec, so ``status`` describes it."""
        observed = self.observed_generation or 0
        return observed > 0 and observed >= self.generation


def is_observed(statefulset: Any) -> bool:
    return RolloutState.of(statefulset).observed


def is_complete(statefulset: Any) -> bool:
    """Observed, every replica updated and ready, and (unpartitioned) the revisions agree."""
    s = RolloutState.of(statefulset)
    if not s.observed or s.ready_replicas != s.spec_replicas:
        return False
    if s.partition:
        return s.updated_replicas >= s.spec_replicas - s.partition
    return (
        s.update_revision != ""
        and s.update_revision == s.current_revision
        and s.updated_replicas == s.ready_replicas == s.spec_replicas
    )


def rollout_progress(statefulset: Any) -> Progress:
    """``kubectl rollout status sts/<name>``: its messages, and done when it would exit.

    Usable directly as a wait condition over the latest StatefulSet object.
    """
    s = RolloutState.of(statefulset)
    if s.strategy != "RollingUpdate":
        return Progress.waiting(
            f"rollout status is only available for RollingUpdate strategy type "
            f"(statefulset {s.name} uses {s.strategy})"
        )
    if not s.observed:
        return Progress.waiting("Waiting for statefulset spec update to be observed...")
    if s.ready_replicas < s.spec_replicas:
        return Progress.waiting(
            f"Waiting for {s.spec_replicas - s.ready_replicas} pods to be ready..."
        )
    if s.partition is not None:
        wanted = s.spec_replicas - s.partition
        if s.updated_replicas < wanted:
            return Progress.waiting(
                f"Waiting for partitioned roll out to finish: {s.updated_replicas} out of "
                f"{wanted} new pods have been updated..."
            )
        return Progress.ok(
            f"partitioned roll out complete: {s.updated_replicas} new pods have been updated..."
        )
    if s.update_revision != s.current_revision:
        return Progress.waiting(
            f"waiting for statefulset rolling update to complete {s.updated_replicas} pods "
            f"at revision {s.update_revision}..."
        )
    return Progress.ok(
        f"statefulset rolling update complete {s.current_replicas} pods "
        f"at revision {s.current_revision}..."
    )


def steady_progress(statefulset: Any) -> Progress:
    """The set is at rest: ``rollout status`` would exit 0, or, under ``OnDelete`` (which
    ``rollout status`` refuses), the controller has seen the spec and every replica is ready."""
    s = RolloutState.of(statefulset)
    if s.strategy == "RollingUpdate":
        return rollout_progress(statefulset)
    if not s.observed:
        return Progress.waiting("Waiting for statefulset spec update to be observed...")
    if s.ready_replicas < s.spec_replicas:
        return Progress.waiting(
            f"Waiting for {s.spec_replicas - s.ready_replicas} pods to be ready...")
    return Progress.ok(f"{s.ready_replicas}/{s.spec_replicas} ready under {s.strategy} "
                       f"({s.updated_replicas} at the update revision; pods are replaced only "
                       "when deleted)")


def expected_update_order(replicas: int, partition: int = 0, start: int = 0) -> list[int]:
    """Ordinals a RollingUpdate replaces, in order: highest first, down to the partition."""
    if replicas < 0 or partition < 0:
        raise ValueError("replicas and partition must be >= 0")
    lowest = max(partition, start)
    return list(range(start + replicas - 1, lowest - 1, -1))
