"""Small pod and condition helpers shared by the eviction subresource and the controllers.

Kubernetes keeps these in `k8s.io/kubernetes/pkg/api/v1/pod` and apimachinery's `meta`
package; eviction and several controllers (scheduler, disruption, endpoints) must agree on
exactly what "ready" or "terminating" means, so the definitions live in one place.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from localkube.apimachinery.meta import format_rfc3339, parse_rfc3339

POD_REF = {"apiVersion": "v1", "kind": "Pod"}


def stamp(seconds: float) -> str:
    """A `metav1.Time` (second precision) for a Unix time, e.g. from `registry.clock()`."""
    return format_rfc3339(datetime.fromtimestamp(seconds, UTC))


def parse_stamp(text: str | None) -> float | None:
    """Unix seconds of an RFC 3339 timestamp; None when absent or malformed."""
    if not text:
        return None
    try:
        return parse_rfc3339(text).timestamp()
    except ValueError:
        return None


def condition(obj: Mapping[str, Any], kind: str) -> dict | None:
    """The `status.conditions` entry of type `kind`, if any."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def is_ready(pod: Mapping[str, Any]) -> bool:
    """`podutil.IsPodReady`: the Ready condition is True (phase is not consulted)."""
    cond = condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def is_terminating(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def is_terminal(pod: Mapping[str, Any]) -> bool:
    """Succeeded or Failed: the pod holds no resources and never runs again."""
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def set_condition(conditions: list[dict], new: dict, now: str) -> bool:
    """Upsert a condition as `meta.SetStatusCondition` does; True when anything changed.

    `lastTransitionTime` moves only when `status` flips, so repeated syncs are no-op writes.
    """
    for cond in conditions:
        if cond.get("type") != new["type"]:
            continue
        before = dict(cond)
        if cond.get("status") != new["status"]:
            cond["lastTransitionTime"] = now
        for key, value in new.items():
            if key != "lastTransitionTime":
                cond[key] = value
        return cond != before
    entry = dict(new)
    entry.setdefault("lastTransitionTime", now)
    conditions.append(entry)
    return True


def ns_name(key: Hashable) -> tuple[str, str]:
    """A work-queue key that is a (namespace, name) pair, typed as such."""
    namespace, name = cast(tuple[str, str], key)
    return namespace, name
