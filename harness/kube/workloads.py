"""What kubectl derives from several objects: rollout history and undo, the budgets and
services that select a set's pods.

``revisions`` and ``rollout_undo`` do what ``kubectl rollout history|undo sts/NAME`` do
(ControllerRevisions controlled by the set, oldest first; undo patches the set with the
previous revision's data, strategic merge, honouring its ``$patch: replace``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.errors import ClusterError
from harness.kube.objects import CONTROLLER_REVISION, PDB, SERVICE, STATEFULSET, Objects
from harness.model.disruption import selector_matches
from harness.model.objects import BudgetView, ServiceView, selector_string


def revisions(cluster: Objects, statefulset: str) -> list[dict[str, Any]]:
    """``kubectl rollout history``: ControllerRevisions controlled by the set, oldest first."""
    sts = cluster.statefulset(statefulset)
    if sts is None:
        raise ClusterError(f"statefulset {statefulset} does not exist")
    selector = selector_string(sts["spec"]["selector"].get("matchLabels") or {})
    owned = [r for r in cluster.list_objects(CONTROLLER_REVISION, selector)
             if any(o.get("controller") and o.get("uid") == sts["metadata"]["uid"]
                    for o in r["metadata"].get("ownerReferences") or [])]
    return sorted(owned, key=lambda r: int(r.get("revision") or 0))


def rollout_undo(cluster: Objects, statefulset: str) -> str:
    """``kubectl rollout undo sts/NAME``; returns kubectl's line."""
    history = revisions(cluster, statefulset)
    if len(history) < 2:
        raise ClusterError(f"statefulset {statefulset}: no last revision to roll back to")
    target = history[-2]
    cluster.patch(STATEFULSET, statefulset, target["data"], "strategic")
    return f"statefulset.apps/{statefulset} rolled back to revision {target.get('revision')}"


def budgets_selecting(cluster: Objects, labels: Mapping[str, str]) -> list[BudgetView]:
    """PodDisruptionBudgets whose (non-empty) selector matches pods with ``labels``."""
    return [BudgetView(p) for p in cluster.list_objects(PDB)
            if (p.get("spec") or {}).get("selector")
            and selector_matches(p["spec"]["selector"], labels)]


def services_selecting(cluster: Objects, labels: Mapping[str, str]) -> list[ServiceView]:
    """Services whose selector matches pods with ``labels``, by name."""
    found = [ServiceView(s) for s in cluster.list_objects(SERVICE)]
    chosen = [s for s in found
              if s.selector and selector_matches({"matchLabels": s.selector}, labels)]
    return sorted(chosen, key=lambda s: s.name)
