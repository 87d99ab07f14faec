"""Deletion semantics: preconditions, graceful deletion, finalizers and propagation.

`Registry.delete`, `Registry._remove` and `Registry.delete_collection` delegate here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.apimachinery.meta import format_time
from localkube.registry import apierrors as E
from localkube.registry.strategies import strategy_for
from localkube.resources import Resource

if TYPE_CHECKING:
    from localkube.registry.core import Registry


def delete(
    reg: Registry, res: Resource, namespace: str, name: str, options: dict | None = None
) -> tuple[dict, bool]:
    """Delete with Kubernetes semantics; returns (object or Status, removed_now).

    Pods with a grace period only get deletionTimestamp (the kubelet finishes the
    job); objects with finalizers wait for them; Orphan/Foreground propagation adds the
    matching finalizer for the garbage collector.
    """
    options = options or {}
    namespace = reg._ns(res, namespace)
    obj = reg.store.get(res.key, namespace, name)
    if obj is None:
        raise E.not_found(res, name)
    meta = obj["metadata"]
    pre = options.get("preconditions") or {}
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise E.conflict(
            res,
            name,
            f"Precondition failed: UID in precondition: {pre['uid']}, "
            f"UID in object meta: {meta.get('uid')}",
        )
    if pre.get("resourceVersion") and str(pre["resourceVersion"]) != meta.get("resourceVersion"):
        raise E.conflict(
            res,
            name,
            f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
        )
    dry_run = bool(options.get("dryRun"))
    strategy = strategy_for(res)
    finalizers = list(meta.get("finalizers") or [])
    policy = _propagation(options)
    if policy == "Orphan" and "orphan" not in finalizers:
        finalizers.append("orphan")
    elif policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
    grace = strategy.grace_period(obj, options.get("gracePeriodSeconds"))
    blocking = finalizers + strategy.extra_finalizers(obj)
    now = reg.clock()
    if meta.get("deletionTimestamp"):
        # Already terminating: a later delete may only shorten the grace period.
        current = meta.get("deletionGracePeriodSeconds")
        if grace is not None and current is not None and grace < current:
            meta["deletionGracePeriodSeconds"] = grace
            meta["deletionTimestamp"] = format_time(now + grace)
        if finalizers != list(meta.get("finalizers") or []):
            meta["finalizers"] = finalizers
        if not blocking and meta.get("deletionGracePeriodSeconds") in (0, None):
            return reg._remove(res, obj, dry_run)
        if dry_run:
            return reg._typed(res, obj), False
        if obj == reg.store.peek(res.key, namespace, name):
            return reg._typed(res, obj), False
        return reg._typed(res, reg.store.commit(res.key, obj)), False
    if grace or blocking:
        meta["deletionTimestamp"] = format_time(now + (grace or 0))
        meta["deletionGracePeriodSeconds"] = grace or 0
        if finalizers:
            meta["finalizers"] = finalizers
        if res.has_generation:
            meta["generation"] = int(meta.get("generation", 1)) + 1
        if dry_run:
            return reg._typed(res, obj), False
        stored = reg.store.commit(res.key, obj)
        strategy.after_delete_requested(stored, reg)
        return reg._typed(res, stored), False
    return reg._remove(res, obj, dry_run)


def remove(reg: Registry, res: Resource, obj: dict, dry_run: bool) -> tuple[dict, bool]:
    meta = obj["metadata"]
    if not dry_run:
        gone = reg.store.remove(res.key, meta.get("namespace", ""), meta["name"])
        if gone is not None:
            obj = gone
            strategy_for(res).after_remove(obj, reg)
    if res is R.PODS:
        return reg._typed(res, obj), True
    return E.success_status(res, obj), True


def delete_collection(
    reg: Registry,
    res: Resource,
    namespace: str | None,
    label_selector: str | None,
    field_selector: str | None,
    options: dict | None = None,
) -> list[dict]:
    items, _ = reg.list(res, namespace, label_selector, field_selector)
    out = []
    for item in items:
        meta = item["metadata"]
        try:
            deleted, _ = reg.delete(res, meta.get("namespace", ""), meta["name"], options)
        except E.ApiError as exc:
            if exc.code != 404:
                raise
            continue
        out.append(deleted if deleted.get("kind") == res.kind else item)
    return out


def _propagation(options: dict) -> str:
    policy = options.get("propagationPolicy")
    if policy is None and options.get("orphanDependents") is not None:
        return "Orphan" if str(options["orphanDependents"]).lower() == "true" else "Background"
    if policy not in (None, "Background", "Foreground", "Orphan"):
        raise E.bad_request(f"unsupported propagation policy: {policy}")
    return policy or "Background"
