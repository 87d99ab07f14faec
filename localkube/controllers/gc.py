"""The garbage collector: ownerReferences, cascading deletion and orphaning.

It keeps the dependency graph kube-controller-manager's GC keeps (owner UID → dependents),
built from the store and updated on every change, and acts on it:

* a dependent whose owners are all gone (absent, or a different UID under that name) is
  deleted — Background unless it carries its own propagation finalizer; when some owners still
  live, only the dangling references are removed;
* an owner deleted with ``propagationPolicy: Foreground`` (finalizer ``foregroundDeletion``)
  has its dependents deleted, and keeps its finalizer until those with
  ``blockOwnerDeletion: true`` are gone;
* an owner deleted with ``Orphan`` (finalizer ``orphan``) has references to it stripped from
  its dependents before the finalizer is removed.

Removing the last finalizer from an object with ``deletionTimestamp`` makes the registry drop
it, exactly as the apiserver does. Works for every kind in the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.meta import split_api_version
from localkube.controllers.base import Controller, Key
from localkube.registry import Registry
from localkube.resources import Resource
from localkube.store import DELETED, Change

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"

if TYPE_CHECKING:
    from localkube.cluster import Cluster

Ref = tuple[str, str, str]  # (resource key, namespace, name)


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _owner_refs(obj: dict) -> list[dict]:
    return [r for r in _meta(obj).get("ownerReferences") or [] if isinstance(r, dict)]


def _finalizers(obj: dict) -> list[str]:
    return list(_meta(obj).get("finalizers") or [])


def _deleting(obj: dict) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def _cascading(obj: dict) -> bool:
    """Deleted with Orphan or Foreground propagation, so the GC must finish the job."""
    return _deleting(obj) and bool({ORPHAN, FOREGROUND} & set(_finalizers(obj)))


def _deleting_dependents(obj: dict) -> bool:
    return _deleting(obj) and FOREGROUND in _finalizers(obj)


class GarbageCollector(Controller):
    name = "garbage-collector"
    watches = None  # every resource can own or be owned

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        self._dependents: dict[str, set[Ref]] = {}  # owner uid -> dependents
        self._owners: dict[Ref, set[str]] = {}  # dependent -> owner uids
        self._by_uid: dict[str, Ref] = {}  # uid -> object, for objects that exist

    # -- the graph -----------------------------------------------------------------------
    def start(self) -> None:
        for res in R.RESOURCES:
            for obj, _ in self.store.scan(res.key):
                self._index((res.key, _meta(obj).get("namespace", ""), _meta(obj)["name"]), obj)
        super().start()

    def initial_keys(self) -> Iterable[Key]:
        """Resync: everything with owners, and owners half-way through a cascading delete."""
        keys = set(self._owners)
        for res in R.RESOURCES:
            for obj, _ in self.store.scan(res.key):
                if _cascading(obj):
                    keys.add((res.key, _meta(obj).get("namespace", ""), _meta(obj)["name"]))
        return keys

    def _index(self, ref: Ref, obj: dict) -> None:
        self._unindex(ref)
        uid = _meta(obj).get("uid")
        if uid:
            self._by_uid[uid] = ref
        owners = {str(r.get("uid")) for r in _owner_refs(obj) if r.get("uid")}
        if owners:
            self._owners[ref] = owners
            for owner in owners:
                self._dependents.setdefault(owner, set()).add(ref)

    def _unindex(self, ref: Ref) -> None:
        for owner in self._owners.pop(ref, set()):
            deps = self._dependents.get(owner)
            if deps is not None:
                deps.discard(ref)
                if not deps:
                    del self._dependents[owner]

    def keys_for(self, change: Change) -> Iterable[Key]:
        meta = _meta(change.obj)
        ref: Ref = (change.resource, meta.get("namespace", ""), meta["name"])
        uid = meta.get("uid", "")
        before = {str(r.get("uid")) for r in _owner_refs(change.old or {})}
        keys: set[Key] = set()
        if change.type == DELETED:
            self._unindex(ref)
            if self._by_uid.get(uid) == ref:
                del self._by_uid[uid]
            keys.update(self._dependents.get(uid, ()))  # now dangling
            after: set[str] = set()
        else:
            self._index(ref, change.obj)
            after = set(self._owners.get(ref, ()))
            if after or _cascading(change.obj):
                keys.add(ref)
        # An owner waiting in foreground deletion re-checks when a dependent goes or lets go.
        for owner_uid in before - after:
            owner_ref = self._by_uid.get(owner_uid)
            if owner_ref is not None:
                keys.add(owner_ref)
        return keys

    # -- reconcile -----------------------------------------------------------------------
    async def reconcile(self, key: Key) -> float | None:
        res_key, ns, name = cast(Ref, key)
        res = R.BY_KEY.get(res_key)
        if res is None:
            return None
        obj = self.store.get(res.key, ns, name)
        if obj is None:
            return None
        if _deleting(obj):
            finalizers = _finalizers(obj)
            if ORPHAN in finalizers:
                self._orphan_dependents(obj)
                self._remove_finalizer(res, obj, ORPHAN)
            elif FOREGROUND in finalizers:
                self._process_deleting_dependents(res, obj)
            return None  # being deleted is a one-way trip: nothing to collect yet
        if _owner_refs(obj):
            self._attempt_to_delete(res, obj)
        return None

    def _dependents_of(self, owner: dict) -> list[tuple[Resource, dict]]:
        out = []
        for res_key, ns, name in sorted(self._dependents.get(_meta(owner).get("uid", ""), ())):
            dep = self.store.get(res_key, ns, name)
            if dep is not None and res_key in R.BY_KEY:
                out.append((R.BY_KEY[res_key], dep))
        return out

    def _orphan_dependents(self, owner: dict) -> None:
        uid = _meta(owner)["uid"]
        for res, dep in self._dependents_of(owner):
            self._drop_refs(res, dep, {uid})

    def _process_deleting_dependents(self, res: Resource, owner: dict) -> None:
        """Delete every dependent; drop the finalizer once no blocking one is left."""
        uid = _meta(owner)["uid"]
        blocking = 0
        for dep_res, dep in self._dependents_of(owner):
            ref = next((r for r in _owner_refs(dep) if r.get("uid") == uid), {})
            if ref.get("blockOwnerDeletion") is True:
                blocking += 1
            if not _deleting(dep):
                self._attempt_to_delete(dep_res, dep)
        if blocking == 0:
            self._remove_finalizer(res, owner, FOREGROUND)

    def _classify(self, dep: dict) -> tuple[list[dict], list[dict], list[dict]]:
        """(solid, dangling, waiting-for-dependents) owner references of `dep`."""
        solid, dangling, waiting = [], [], []
        dep_ns = _meta(dep).get("namespace", "")
        for ref in _owner_refs(dep):
            group, _ = split_api_version(str(ref.get("apiVersion", "")))
            owner_res = R.BY_KIND.get(str(ref.get("kind", "")))
            if owner_res is None or owner_res.group != group:
                solid.append(ref)  # unknown kind: leave it alone, as the GC cannot resolve it
                continue
            if owner_res.namespaced and not dep_ns:
                dangling.append(ref)  # a cluster-scoped object cannot have a namespaced owner
                continue
            owner = self.store.peek(owner_res.key, dep_ns if owner_res.namespaced else "",
                                    str(ref.get("name", "")))
            if owner is None or _meta(owner).get("uid") != ref.get("uid"):
                dangling.append(ref)
            elif _deleting_dependents(owner):
                waiting.append(ref)
            else:
                solid.append(ref)
        return solid, dangling, waiting

    def _attempt_to_delete(self, res: Resource, dep: dict) -> None:
        solid, dangling, waiting = self._classify(dep)
        if solid:
            if dangling or waiting:
                self._drop_refs(res, dep, {str(r.get("uid")) for r in dangling + waiting})
            return
        if waiting and self._dependents_of(dep):
            # It owns things itself: delete it in the foreground too, so the chain waits.
            self._delete(res, dep, "Foreground")
            return
        finalizers = _finalizers(dep)
        policy = ("Orphan" if ORPHAN in finalizers
                  else "Foreground" if FOREGROUND in finalizers else "Background")
        self._delete(res, dep, policy)

    # -- writes --------------------------------------------------------------------------
    def _delete(self, res: Resource, obj: dict, policy: str) -> None:
        meta = _meta(obj)
        try:
            self.registry.delete(res, meta.get("namespace", ""), meta["name"], {
                "propagationPolicy": policy, "preconditions": {"uid": meta.get("uid")}})
        except ApiError as exc:
            if exc.code not in (404, 409):
                raise

    def _drop_refs(self, res: Resource, obj: dict, uids: set[str]) -> None:
        """Remove owner references by UID (the GC's delete-owner-reference patch)."""
        uid = _meta(obj).get("uid")

        def drop(live: dict) -> bool:
            if _meta(live).get("uid") != uid:
                return False
            refs = [r for r in _owner_refs(live) if r.get("uid") not in uids]
            if refs:
                live["metadata"]["ownerReferences"] = refs
            else:
                live["metadata"].pop("ownerReferences", None)
            return True

        try:
            self.registry.mutate(res, _meta(obj).get("namespace", ""), _meta(obj)["name"], drop)
        except ApiError as exc:
            if exc.code not in (404, 409):
                raise

    def _remove_finalizer(self, res: Resource, obj: dict, finalizer: str) -> None:
        uid = _meta(obj).get("uid")

        def remove(live: dict) -> bool:
            if _meta(live).get("uid") != uid or finalizer not in _finalizers(live):
                return False
            rest = [f for f in _finalizers(live) if f != finalizer]
            if rest:
                live["metadata"]["finalizers"] = rest
            else:
                live["metadata"].pop("finalizers", None)
            return True

        try:
            self.registry.mutate(res, _meta(obj).get("namespace", ""), _meta(obj)["name"], remove)
        except ApiError as exc:
            if exc.code != 404:
                raise


def build(cluster: Cluster) -> list[GarbageCollector]:
    return [GarbageCollector(cluster.registry)]
