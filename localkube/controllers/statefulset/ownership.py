"""Adoption and release: which pods and revisions a StatefulSet controls.

After ``kubectl delete sts zk --cascade=orphan`` the pods and revisions lose their owner
reference; a set re-created with the same selector claims them back here instead of starting
new pods. Adoption re-checks the set (same UID, not being deleted) as ``canAdopt`` does, and a
pod is only adopted if its name makes it a member and it is not terminating.
"""

from __future__ import annotations

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.meta import controller_of
from localkube.apimachinery.selectors import LabelSelector
from localkube.controllers.statefulset.identity import is_member, set_ref
from localkube.registry import Registry
from localkube.resources import Resource


def _set_controller(registry: Registry, res: Resource, obj: dict, ref: dict | None,
                    drop_uid: str | None = None) -> dict | None:
    """Add `ref` (merged by uid, as the SMP adoption patch does) or drop refs to `drop_uid`.

    Guarded by the object's UID like the patch's ``metadata.uid``; None if it vanished.
    """
    meta = obj["metadata"]
    uid = meta.get("uid")

    def change(live: dict) -> bool:
        if live["metadata"].get("uid") != uid:
            return False
        refs = list(live["metadata"].get("ownerReferences") or [])
        if ref is not None:
            refs = [r for r in refs if r.get("uid") != ref["uid"]] + [dict(ref)]
        if drop_uid is not None:
            refs = [r for r in refs if r.get("uid") != drop_uid]
        if refs:
            live["metadata"]["ownerReferences"] = refs
        else:
            live["metadata"].pop("ownerReferences", None)
        return True

    try:
        return registry.mutate(res, meta.get("namespace", ""), meta["name"], change)
    except ApiError as exc:
        if exc.code in (404, 409, 422):
            return None
        raise


def can_adopt(registry: Registry, sts: dict) -> bool:
    """``RecheckDeletionTimestamp``: the live set is this one and is not being deleted."""
    live = registry.store.peek(R.STATEFULSETS.key, sts["metadata"].get("namespace", ""),
                               sts["metadata"]["name"])
    return (live is not None and live["metadata"].get("uid") == sts["metadata"]["uid"]
            and not live["metadata"].get("deletionTimestamp"))


def claim_pods(registry: Registry, sts: dict, selector: LabelSelector) -> list[dict]:
    """``ClaimPods``: the set's pods, adopting matching orphans and releasing strays."""
    ns, uid = sts["metadata"].get("namespace", ""), sts["metadata"]["uid"]
    deleting = bool(sts["metadata"].get("deletionTimestamp"))
    out: list[dict] = []
    for pod in registry.store.list(R.PODS.key, ns):
        matches = selector.matches((pod["metadata"].get("labels")) or {}) and is_member(sts, pod)
        ref = controller_of(pod)
        if ref is not None:
            if ref.get("uid") != uid:
                continue  # another controller's
            if matches:
                out.append(pod)
            elif not deleting:
                _set_controller(registry, R.PODS, pod, None, drop_uid=uid)
            continue
        if deleting or not matches or pod["metadata"].get("deletionTimestamp"):
            continue
        if not can_adopt(registry, sts):
            continue
        adopted = _set_controller(registry, R.PODS, pod, set_ref(sts))
        if adopted is not None:
            out.append(adopted)
    return out


def list_revisions(registry: Registry, sts: dict, selector: LabelSelector) -> list[dict]:
    """Revisions matching the selector that this set controls or nobody controls."""
    ns, uid = sts["metadata"].get("namespace", ""), sts["metadata"]["uid"]
    out = []
    for rev in registry.store.list(R.REVISIONS.key, ns):
        if not selector.matches((rev["metadata"].get("labels")) or {}):
            continue
        ref = controller_of(rev)
        if ref is None or ref.get("uid") == uid:
            out.append(rev)
    return out


def adopt_orphan_revisions(registry: Registry, sts: dict, selector: LabelSelector) -> None:
    orphans = [r for r in list_revisions(registry, sts, selector) if controller_of(r) is None]
    if orphans and can_adopt(registry, sts):
        for rev in orphans:
            _set_controller(registry, R.REVISIONS, rev, set_ref(sts))

