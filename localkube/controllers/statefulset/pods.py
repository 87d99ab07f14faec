"""Pods of a StatefulSet: how a member is built from a template, and how healthy it is.

The predicates mirror the controller's (``isCreated``, ``isRunningAndReady``, …) because the
ordering guarantees hang on them: a pod whose ``status.phase`` is empty has not been created,
and only Running pods with ``Ready=True`` let OrderedReady move on.
"""

from __future__ import annotations

import copy

from localkube.apimachinery.meta import parse_rfc3339
from localkube.controllers.statefulset.identity import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_LABEL,
    claim_name,
    ordinal_of,
    parent_and_ordinal,
    pod_name,
    set_ref,
)
from localkube.registry.podutil import condition, is_ready, is_terminating


def claim_templates(sts: dict) -> list[dict]:
    return [t for t in sts["spec"].get("volumeClaimTemplates") or [] if isinstance(t, dict)]


def new_pod(sts: dict, template: dict, ordinal: int, revision: str) -> dict:
    """The pod for `ordinal` built from `template` (the current or the update revision's)."""
    tmeta = template.get("metadata") or {}
    name = pod_name(sts, ordinal)
    meta: dict = {"name": name, "generateName": f"{sts['metadata']['name']}-",
                  "namespace": sts["metadata"].get("namespace", "")}
    labels = dict(tmeta.get("labels") or {})
    labels[POD_NAME_LABEL] = name
    labels[POD_INDEX_LABEL] = str(ordinal)
    labels[REVISION_LABEL] = revision
    meta["labels"] = labels
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    meta["ownerReferences"] = [set_ref(sts)]
    spec = copy.deepcopy(template.get("spec") or {})
    spec["hostname"] = name
    if sts["spec"].get("serviceName"):
        spec["subdomain"] = sts["spec"]["serviceName"]
    spec["volumes"] = _volumes(sts, ordinal, spec.get("volumes") or [])
    if not spec["volumes"]:
        del spec["volumes"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _volumes(sts: dict, ordinal: int, current: list[dict]) -> list[dict]:
    """Claim volumes first, then the template's own volumes not shadowed by a claim."""
    claims = {t["metadata"]["name"]: claim_name(sts, t, ordinal) for t in claim_templates(sts)}
    out = [{"name": name, "persistentVolumeClaim": {"claimName": claim}}
           for name, claim in claims.items()]
    return out + [v for v in current if v.get("name") not in claims]


def identity_matches(sts: dict, pod: dict) -> bool:
    parent, ordinal = parent_and_ordinal(pod["metadata"]["name"])
    meta = pod["metadata"]
    return (ordinal >= 0 and parent == sts["metadata"]["name"]
            and meta.get("namespace") == sts["metadata"].get("namespace")
            and (meta.get("labels") or {}).get(POD_NAME_LABEL) == meta["name"])


def fix_identity(pod: dict) -> None:
    """``updateIdentity`` for an existing pod: only its identity labels can change."""
    labels = pod["metadata"].setdefault("labels", {})
    labels[POD_NAME_LABEL] = pod["metadata"]["name"]
    labels[POD_INDEX_LABEL] = str(ordinal_of(pod))


def storage_matches(sts: dict, pod: dict) -> bool:
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    for template in claim_templates(sts):
        volume = volumes.get(template["metadata"]["name"]) or {}
        source = volume.get("persistentVolumeClaim") or {}
        if source.get("claimName") != claim_name(sts, template, ordinal):
            return False
    return True


def fix_storage(sts: dict, pod: dict) -> None:
    spec = pod.setdefault("spec", {})
    spec["volumes"] = _volumes(sts, ordinal_of(pod), spec.get("volumes") or [])


# -- health predicates ------------------------------------------------------------------
def phase(pod: dict) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_created(pod: dict) -> bool:
    return phase(pod) != ""


def is_running_ready(pod: dict) -> bool:
    return phase(pod) == "Running" and is_ready(pod)


def available_after(pod: dict, min_ready_seconds: int, now: float) -> float | None:
    """Seconds until the pod counts as available: 0 if it is, None if it is not even ready.

    ``podutil.IsPodAvailable``: Ready, and Ready since more than minReadySeconds.
    """
    if not is_ready(pod):
        return None
    if min_ready_seconds <= 0:
        return 0.0
    since = (condition(pod, "Ready") or {}).get("lastTransitionTime")
    if not since:
        return None
    try:
        ready_at = parse_rfc3339(str(since)).timestamp()
    except ValueError:
        return None
    remaining = ready_at + min_ready_seconds - now
    # Available strictly after the deadline, as Go's Time.Before.
    return 0.0 if remaining < 0 else max(remaining, 0.001)


def is_available(pod: dict, min_ready_seconds: int, now: float) -> bool:
    return available_after(pod, min_ready_seconds, now) == 0.0


def is_unavailable(pod: dict, min_ready_seconds: int, now: float) -> bool:
    """Blocks OrderedReady progress: not created, terminating, or not available."""
    return (not is_created(pod) or is_terminating(pod) or not is_running_ready(pod)
            or not is_available(pod, min_ready_seconds, now))
