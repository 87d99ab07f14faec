"""PersistentVolumeClaims from ``volumeClaimTemplates`` and their retention-policy owners.

Claims are created before their pod and reused when present, so a pod that comes back (after
a delete, a rolling update or the set's deletion) mounts the same data. Ownership follows
``persistentVolumeClaimRetentionPolicy``: with the default Retain/Retain a claim has no owner
and outlives everything; ``whenDeleted: Delete`` makes the set its controller and
``whenScaled: Delete`` makes a scaled-away pod its controller, leaving removal to the GC.
"""

from __future__ import annotations

import copy

from localkube.controllers.statefulset.identity import (
    API_VERSION,
    KIND,
    claim_name,
    controller_ref,
    in_range,
    ordinal_of,
)
from localkube.controllers.statefulset.pods import claim_templates

RETAIN = "Retain"
DELETE = "Delete"


def claims_for(sts: dict, pod: dict) -> list[dict]:
    """The claims `pod` needs: template copies named per ordinal, labelled with the selector."""
    ordinal = ordinal_of(pod)
    match_labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
    out = []
    for template in claim_templates(sts):
        claim = copy.deepcopy(template)
        meta = claim.setdefault("metadata", {})
        meta["name"] = claim_name(sts, template, ordinal)
        meta["namespace"] = sts["metadata"].get("namespace", "")
        meta.pop("creationTimestamp", None)
        labels = {**(meta.get("labels") or {}), **match_labels}
        if labels:
            meta["labels"] = labels
        claim.pop("status", None)
        out.append(claim)
    return out


def policy(sts: dict) -> tuple[str, str]:
    """(whenDeleted, whenScaled); unknown values count as Retain, as the controller does."""
    p = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    deleted = DELETE if p.get("whenDeleted") == DELETE else RETAIN
    scaled = DELETE if p.get("whenScaled") == DELETE else RETAIN
    return deleted, scaled


def _matches(ref: dict, obj: dict, api_version: str, kind: str) -> bool:
    return (ref.get("apiVersion") == api_version and ref.get("kind") == kind
            and ref.get("name") == obj["metadata"]["name"])


def _is_ours(ref: dict, sts: dict, pod: dict) -> bool:
    return _matches(ref, sts, API_VERSION, KIND) or _matches(ref, pod, "v1", "Pod")


def _has_ref(claim: dict, owner: dict) -> bool:
    uid = owner["metadata"].get("uid")
    return any(r.get("uid") == uid for r in claim["metadata"].get("ownerReferences") or [])


def _stale(claim: dict, owner: dict, api_version: str, kind: str) -> bool:
    for ref in claim["metadata"].get("ownerReferences") or []:
        if _matches(ref, owner, api_version, kind):
            return ref.get("uid") != owner["metadata"].get("uid")
    return False


def _unexpected_controller(claim: dict, sts: dict, pod: dict) -> bool:
    if policy(sts) == (RETAIN, RETAIN):
        return False
    for ref in claim["metadata"].get("ownerReferences") or []:
        if _matches(ref, sts, API_VERSION, KIND):
            if ref.get("uid") != sts["metadata"]["uid"]:
                return True
        elif _matches(ref, pod, "v1", "Pod"):
            if ref.get("uid") != pod["metadata"].get("uid"):
                return True
        elif ref.get("controller") is True:
            return True
    return False


def claim_is_stale(claim: dict, pod: dict) -> bool:
    """The claim still belongs to a previous pod of that name (it is about to be collected)."""
    return _stale(claim, pod, "v1", "Pod")


def owners_up_to_date(claim: dict, sts: dict, pod: dict) -> bool:
    """``isClaimOwnerUpToDate``: do the claim's owner refs follow the retention policy?"""
    if _stale(claim, sts, API_VERSION, KIND) or _stale(claim, pod, "v1", "Pod"):
        return True  # a previous incarnation manages it; leave it to the GC
    if _unexpected_controller(claim, sts, pod):
        return not (_has_ref(claim, sts) or _has_ref(claim, pod))
    set_uid, pod_uid = sts["metadata"]["uid"], pod["metadata"].get("uid")
    for ref in claim["metadata"].get("ownerReferences") or []:
        if ref.get("uid") in (set_uid, pod_uid) and ref.get("controller") is not True:
            return False
    when_deleted, when_scaled = policy(sts)
    scaled_down = not in_range(sts, pod)
    want_set = when_deleted == DELETE and not (when_scaled == DELETE and scaled_down)
    want_pod = when_scaled == DELETE and scaled_down
    return _has_ref(claim, sts) == want_set and _has_ref(claim, pod) == want_pod


def desired_owner_refs(claim: dict, sts: dict, pod: dict) -> list[dict]:
    """``updateClaimOwnerRefForSetAndPod``: our refs scrubbed, then re-added per policy."""
    unexpected = _unexpected_controller(claim, sts, pod)
    refs = [r for r in claim["metadata"].get("ownerReferences") or []
            if not _is_ours(r, sts, pod)]
    if unexpected:
        return refs
    when_deleted, when_scaled = policy(sts)
    scaled_down = not in_range(sts, pod)
    if when_scaled == DELETE and scaled_down:
        if pod["metadata"].get("uid"):
            refs.append(controller_ref(pod, "v1", "Pod"))
    elif when_deleted == DELETE:
        refs.append(controller_ref(sts, API_VERSION, KIND))
    return refs
