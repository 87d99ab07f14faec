"""The registry: Kubernetes API semantics on top of the store.

Both the HTTP handlers and the in-process controllers and kubelets write through this
class, so every write gets the same defaults, validation, resourceVersion checks,
generation bumps, status/spec split, finalizers and graceful deletion that kube-apiserver
applies. Errors are `ApiError`s carrying the Kubernetes `Status` the client will see.
"""

from __future__ import annotations

import builtins
import secrets
import time
import uuid
from collections.abc import Callable, Iterable

from localkube import resources as R
from localkube.apimachinery import patch as patches
from localkube.apimachinery.meta import format_time
from localkube.registry import apierrors as E
from localkube.registry import deletion, events, fields, special, validation
from localkube.registry.ipalloc import AddressPool
from localkube.registry.strategies import Strategy, strategy_for
from localkube.resources import Resource
from localkube.store import Store, Watcher

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)

Mutator = Callable[[dict], bool | None]


class Registry:
    """Create/get/list/update/patch/delete/watch with kube-apiserver's rules."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float] = time.time,
        service_network: str = "127.0.255.0/24",
    ) -> None:
        self.store = store
        self.clock = clock
        self.service_ips = AddressPool(service_network)
        #: kube-apiserver's --default-not-ready-toleration-seconds and
        #: --default-unreachable-toleration-seconds (DefaultTolerationSeconds admission)
        self.default_not_ready_toleration_seconds = 300
        self.default_unreachable_toleration_seconds = 300
        self._last_event_ns = 0  # event names are <object>.<hex nanoseconds>, increasing

    # -- reads ---------------------------------------------------------------------------
    def get(self, res: Resource, namespace: str, name: str) -> dict:
        obj = self.store.get(res.key, self._ns(res, namespace), name)
        if obj is None:
            raise E.not_found(res, name)
        return self._typed(res, obj)

    def try_get(self, res: Resource, namespace: str, name: str) -> dict | None:
        obj = self.store.get(res.key, self._ns(res, namespace), name)
        return self._typed(res, obj) if obj is not None else None

    def list(
        self,
        res: Resource,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[dict], str]:
        """Matching objects (typed) and the list resourceVersion."""
        predicate = fields.predicate(res, label_selector, field_selector)
        items = self.store.list(res.key, namespace if res.namespaced else None, predicate)
        return [self._typed(res, o) for o in items], str(self.store.resource_version)

    def watch(
        self,
        res: Resource,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        resource_version: str | None,
    ) -> Watcher:
        predicate = fields.predicate(res, label_selector, field_selector)
        since = None
        if resource_version not in (None, "", "0"):
            try:
                since = int(str(resource_version))
            except ValueError as exc:
                raise E.bad_request(f"invalid resource version: {resource_version}") from exc
        return self.store.watch(res.key, namespace if res.namespaced else None, predicate, since)

    # -- create --------------------------------------------------------------------------
    def create(self, res: Resource, namespace: str, obj: dict, *, dry_run: bool = False) -> dict:
        if not isinstance(obj, dict):
            raise E.bad_request("the body of the request was not a JSON object")
        obj = dict(obj)
        meta = dict(obj.get("metadata") or {})
        obj["metadata"] = meta
        self._check_kind(res, obj)
        self._typed(res, obj)  # stored bytes are served as they are, so they carry the kind
        namespace = self._ns(res, namespace)
        if res.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != namespace:
                raise E.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace
            self._require_namespace(namespace)
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = meta["generateName"] + "".join(
                    secrets.choice(NAME_ALPHABET) for _ in range(5)
                )
            else:
                raise E.invalid(
                    res,
                    "",
                    [validation.required("metadata.name", "name or generateName is required")],
                )
        name = meta["name"]
        strategy = strategy_for(res)
        for key in (
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = format_time(self.clock())
        if res.has_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        strategy.prepare_for_create(obj, self)
        strategy.default(obj)
        causes = validation.validate_meta(res, obj) + strategy.validate(obj)
        if causes:
            raise E.invalid(res, name, causes)
        if self.store.peek(res.key, namespace, name) is not None:
            raise E.already_exists(res, name)
        if dry_run:
            return self._typed(res, obj)
        stored = self.store.commit(res.key, obj)
        strategy.after_create(stored, self)
        return self._typed(res, stored)

    # -- update --------------------------------------------------------------------------
    def update(
        self,
        res: Resource,
        namespace: str,
        name: str,
        obj: dict,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict:
        """PUT semantics: optimistic concurrency when the body carries a resourceVersion."""
        if not isinstance(obj, dict):
            raise E.bad_request("the body of the request was not a JSON object")
        namespace = self._ns(res, namespace)
        old = self.store.get(res.key, namespace, name)
        if old is None:
            raise E.not_found(res, name)
        self._check_kind(res, obj)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") not in (None, name):
            raise E.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({name})"
            )
        _check_resource_version(res, obj, old)
        return self._commit_update(res, old, obj, subresource, dry_run)

    def mutate(
        self,
        res: Resource,
        namespace: str,
        name: str,
        fn: Mutator,
        *,
        subresource: str | None = None,
    ) -> dict | None:
        """Read-modify-write for in-process callers; `fn` returns False to skip the write.

        Atomic because the store is only touched from the event loop. Returns None when the
        object does not exist.
        """
        old = self.store.get(res.key, self._ns(res, namespace), name)
        if old is None:
            return None
        new = self.store.get(res.key, self._ns(res, namespace), name)
        assert new is not None
        if fn(new) is False or new == old:
            return self._typed(res, old)
        return self._commit_update(res, old, new, subresource, False)

    def patch(
        self,
        res: Resource,
        namespace: str,
        name: str,
        content_type: str,
        body: object,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> tuple[dict, bool]:
        """Apply a patch; returns the object and whether it was created (server-side apply)."""
        namespace = self._ns(res, namespace)
        old = self.store.get(res.key, namespace, name)
        if old is None:
            if content_type == APPLY_PATCH:
                if not isinstance(body, dict):
                    raise E.bad_request("apply patch body must be an object")
                body_meta = body.setdefault("metadata", {})
                if body_meta.get("name") not in (None, name):
                    raise E.bad_request("the name of the object does not match the name on the URL")
                body_meta["name"] = name
                return self.create(res, namespace, body, dry_run=dry_run), True
            raise E.not_found(res, name)
        new = self._apply_patch(res, old, content_type, body)
        if not isinstance(new, dict):
            raise E.bad_request("the patch did not produce an object")
        new.setdefault("metadata", {})
        _check_resource_version(res, new, old)
        return self._commit_update(res, old, new, subresource, dry_run), False

    def _apply_patch(self, res: Resource, old: dict, content_type: str, body: object) -> object:
        try:
            if content_type == JSON_PATCH:
                if not isinstance(body, list):
                    raise E.bad_request("json patch must be a list of operations")
                return patches.json_patch(old, body)
            if not isinstance(body, dict):
                raise E.bad_request("the patch body must be a JSON object")
            if content_type == MERGE_PATCH:
                return patches.json_merge_patch(old, body)
            if content_type == STRATEGIC_PATCH:
                return patches.strategic_merge(old, body, res.kind)
            if content_type == APPLY_PATCH:
                return patches.apply_patch(old, body, res.kind)
        except E.ApiError:
            raise
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise E.invalid(res, old["metadata"]["name"], [validation.cause("", str(exc))]) from exc
        raise E.unsupported_media_type(PATCH_TYPES)

    def _commit_update(
        self, res: Resource, old: dict, new: dict, subresource: str | None, dry_run: bool
    ) -> dict:
        strategy = strategy_for(res)
        name = old["metadata"]["name"]
        self._check_kind(res, new)
        new["apiVersion"], new["kind"] = res.group_version, res.kind
        meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        # Fields the server owns.
        for key in (
            "uid",
            "creationTimestamp",
            "namespace",
            "name",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if subresource == "status":
            strategy.prepare_status_update(new, old)
        elif res.has_status and subresource is None:
            strategy.keep_status(new, old)
        strategy.prepare_for_update(new, old, subresource, self)
        strategy.default(new)
        # Compared after defaulting, as the apiserver decodes (and defaults) before comparing:
        # a patch that only drops defaulted fields is not a spec change.
        if (
            subresource is None
            and res.has_generation
            and strategy.spec_of(new) != strategy.spec_of(old)
        ):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        causes = validation.validate_meta(res, new) + (
            strategy.validate_status(new)
            if subresource == "status"
            else strategy.validate(new) + strategy.validate_update(new, old)
        )
        if causes:
            raise E.invalid(res, name, causes)
        if (
            old_meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and not strategy.extra_finalizers(new)
            and not old_meta.get("deletionGracePeriodSeconds")
        ):
            # The last finalizer went away: the object is gone now.
            if dry_run:
                return self._typed(res, new)
            new["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
            self.store.commit(res.key, new)
            gone = self.store.remove(res.key, meta.get("namespace", ""), name)
            return self._typed(res, gone or new)
        if dry_run:
            return self._typed(res, new)
        if _same(new, old):
            return self._typed(res, old)
        stored = self.store.commit(res.key, new)
        strategy.after_update(stored, old, self)
        return self._typed(res, stored)

    # -- delete (semantics in deletion.py) ----------------------------------------------
    def delete(
        self, res: Resource, namespace: str, name: str, options: dict | None = None
    ) -> tuple[dict, bool]:
        """Delete with Kubernetes semantics; returns (object or Status, removed_now).

        Pods with a grace period only get deletionTimestamp (the kubelet finishes the
        job); objects with finalizers wait for them; Orphan/Foreground propagation adds the
        matching finalizer for the garbage collector.
        """
        return deletion.delete(self, res, namespace, name, options)

    def _remove(self, res: Resource, obj: dict, dry_run: bool) -> tuple[dict, bool]:
        return deletion.remove(self, res, obj, dry_run)

    def delete_collection(
        self,
        res: Resource,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        options: dict | None = None,
    ) -> builtins.list[dict]:
        return deletion.delete_collection(
            self, res, namespace, label_selector, field_selector, options
        )

    # -- special writes (in special.py) --------------------------------------------------
    def bind_pod(self, namespace: str, name: str, node: str) -> dict:
        """The pods/binding subresource: set spec.nodeName once and mark PodScheduled."""
        return special.bind_pod(self, namespace, name, node)

    def finalize_namespace(self, name: str) -> None:
        """Drop the namespace's `kubernetes` finalizer once its content is gone."""
        special.finalize_namespace(self, name)

    def default_storage_class(self) -> str | None:
        return special.default_storage_class(self)

    # -- events (in events.py) -----------------------------------------------------------
    def record_event(
        self,
        involved: dict,
        event_type: str,
        reason: str,
        message: str,
        component: str,
        host: str | None = None,
    ) -> None:
        """Emit a core/v1 Event as client-go's recorder does, folding repeats into `count`."""
        events.record_event(self, involved, event_type, reason, message, component, host)

    # -- helpers -------------------------------------------------------------------------
    def _ns(self, res: Resource, namespace: str | None) -> str:
        return (namespace or "") if res.namespaced else ""

    def _require_namespace(self, namespace: str) -> None:
        ns = self.store.peek(R.NAMESPACES.key, "", namespace)
        if ns is None:
            raise E.not_found(R.NAMESPACES, namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise E.forbidden(
                None,
                "",
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    @staticmethod
    def _check_kind(res: Resource, obj: dict) -> None:
        kind = obj.get("kind")
        if kind not in (None, "", res.kind):
            raise E.bad_request(f"the kind of the object ({kind}) does not match {res.kind}")
        api_version = obj.get("apiVersion")
        if api_version not in (None, "", res.group_version):
            raise E.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({res.group_version})"
            )

    @staticmethod
    def _typed(res: Resource, obj: dict) -> dict:
        obj["apiVersion"] = res.group_version
        obj["kind"] = res.kind
        return obj


def _same(new: dict, old: dict) -> bool:
    """True when an update changes nothing, so no new resourceVersion is stamped."""
    a = dict(new, metadata={k: v for k, v in new["metadata"].items() if k != "resourceVersion"})
    b = dict(old, metadata={k: v for k, v in old["metadata"].items() if k != "resourceVersion"})
    return a == b


def _check_resource_version(res: Resource, new: dict, old: dict) -> None:
    """Optimistic concurrency: a write naming a resourceVersion must name the current one."""
    rv = new["metadata"].get("resourceVersion")
    if rv not in (None, "") and str(rv) != old["metadata"]["resourceVersion"]:
        raise E.conflict(
            res,
            old["metadata"]["name"],
            "the object has been modified; please apply your changes to the latest version "
            "and try again",
        )


def names(objs: Iterable[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_TYPES",
    "STRATEGIC_PATCH",
    "Registry",
    "Strategy",
]
