"""The registry: Kubernetes API semantics on top of the store.

Both the HTTP handlers and the in-process controllers and kubelets write through this
class, so every write gets the same defaults, validation, resourceVersion checks,
generation bumps, status/spec split, finalizers and graceful deletion that kube-apiserver
applies. Errors are `ApiError`s carrying the Kubernetes `Status` the client will see.
"""

from __future__ import annotations

import contextlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterable

from localkube import resources as R
from localkube.apimachinery import patch as patches
from localkube.apimachinery.meta import format_time
from localkube.registry import apierrors as E
from localkube.registry import fields, validation
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

    # -- delete --------------------------------------------------------------------------
    def delete(
        self, res: Resource, namespace: str, name: str, options: dict | None = None
    ) -> tuple[dict, bool]:
        """Delete with Kubernetes semantics; returns (object or Status, removed_now).

        Pods with a grace period only get deletionTimestamp (the kubelet finishes the
        job); objects with finalizers wait for them; Orphan/Foreground propagation adds the
        matching finalizer for the garbage collector.
        """
        options = options or {}
        namespace = self._ns(res, namespace)
        obj = self.store.get(res.key, namespace, name)
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
        if pre.get("resourceVersion") and str(pre["resourceVersion"]) != meta.get(
            "resourceVersion"
        ):
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
        now = self.clock()
        if meta.get("deletionTimestamp"):
            # Already terminating: a later delete may only shorten the grace period.
            current = meta.get("deletionGracePeriodSeconds")
            if grace is not None and current is not None and grace < current:
                meta["deletionGracePeriodSeconds"] = grace
                meta["deletionTimestamp"] = format_time(now + grace)
            if finalizers != list(meta.get("finalizers") or []):
                meta["finalizers"] = finalizers
            if not blocking and meta.get("deletionGracePeriodSeconds") in (0, None):
                return self._remove(res, obj, dry_run)
            if dry_run:
                return self._typed(res, obj), False
            if obj == self.store.peek(res.key, namespace, name):
                return self._typed(res, obj), False
            return self._typed(res, self.store.commit(res.key, obj)), False
        if grace or blocking:
            meta["deletionTimestamp"] = format_time(now + (grace or 0))
            meta["deletionGracePeriodSeconds"] = grace or 0
            if finalizers:
                meta["finalizers"] = finalizers
            if res.has_generation:
                meta["generation"] = int(meta.get("generation", 1)) + 1
            if dry_run:
                return self._typed(res, obj), False
            stored = self.store.commit(res.key, obj)
            strategy.after_delete_requested(stored, self)
            return self._typed(res, stored), False
        return self._remove(res, obj, dry_run)

    def _remove(self, res: Resource, obj: dict, dry_run: bool) -> tuple[dict, bool]:
        meta = obj["metadata"]
        if not dry_run:
            gone = self.store.remove(res.key, meta.get("namespace", ""), meta["name"])
            if gone is not None:
                obj = gone
                strategy_for(res).after_remove(obj, self)
        if res is R.PODS:
            return self._typed(res, obj), True
        return E.success_status(res, obj), True

    def delete_collection(
        self,
        res: Resource,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        options: dict | None = None,
    ) -> list[dict]:
        items, _ = self.list(res, namespace, label_selector, field_selector)
        out = []
        for item in items:
            meta = item["metadata"]
            try:
                deleted, _ = self.delete(res, meta.get("namespace", ""), meta["name"], options)
            except E.ApiError as exc:
                if exc.code != 404:
                    raise
                continue
            out.append(deleted if deleted.get("kind") == res.kind else item)
        return out

    # -- special writes ------------------------------------------------------------------
    def bind_pod(self, namespace: str, name: str, node: str) -> dict:
        """The pods/binding subresource: set spec.nodeName once and mark PodScheduled."""
        pod = self.store.get(R.PODS.key, namespace, name)
        if pod is None:
            raise E.not_found(R.PODS, name)
        if pod["metadata"].get("deletionTimestamp"):
            raise E.conflict(R.PODS, name, "pod is being deleted, cannot be assigned to a host")
        current = (pod.get("spec") or {}).get("nodeName")
        if current:
            raise E.conflict(R.PODS, name, f'pod {name} is already assigned to node "{current}"')
        pod["spec"]["nodeName"] = node
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions", []) if c.get("type") != "PodScheduled"]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": format_time(self.clock()),
            }
        )
        status["conditions"] = conditions
        return self._typed(R.PODS, self.store.commit(R.PODS.key, pod))

    def finalize_namespace(self, name: str) -> None:
        """Drop the namespace's `kubernetes` finalizer once its content is gone."""
        ns = self.store.get(R.NAMESPACES.key, "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        ns.setdefault("spec", {})["finalizers"] = []
        if ns["metadata"].get("finalizers"):
            self.store.commit(R.NAMESPACES.key, ns)
        else:
            self.store.remove(R.NAMESPACES.key, "", name)

    def default_storage_class(self) -> str | None:
        for sc, _ in self.store.scan(R.STORAGECLASSES.key):
            annotations = sc["metadata"].get("annotations") or {}
            if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
                return str(sc["metadata"]["name"])
        return None

    # -- events --------------------------------------------------------------------------
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
        meta = involved.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        now = format_time(self.clock())
        for obj, _ in self.store.scan(R.EVENTS.key, namespace):
            inv = obj.get("involvedObject", {})
            if (
                inv.get("uid") == meta.get("uid")
                and obj.get("reason") == reason
                and obj.get("message") == message
                and obj.get("type") == event_type
            ):
                ev_name = obj["metadata"]["name"]

                def bump(ev: dict) -> None:
                    ev["count"] = int(ev.get("count", 1)) + 1
                    ev["lastTimestamp"] = now

                self.mutate(R.EVENTS, namespace, ev_name, bump)
                return
        # client-go's recorder names an event `<object>.<%x of UnixNano>`, so the apiserver's
        # name-ordered lists (and `kubectl get events`) show an object's events in order.
        self._last_event_ns = max(int(self.clock() * 1e9), self._last_event_ns + 1)
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta.get('name', 'unknown')}.{self._last_event_ns:x}",
                "namespace": namespace,
            },
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", ""),
                "kind": involved.get("kind", ""),
                "name": meta.get("name", ""),
                "namespace": meta.get("namespace", ""),
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": {"component": component, **({"host": host} if host else {})},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        with contextlib.suppress(E.ApiError):  # events are best effort, as in client-go
            self.create(R.EVENTS, namespace, event)

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


def _propagation(options: dict) -> str:
    policy = options.get("propagationPolicy")
    if policy is None and options.get("orphanDependents") is not None:
        return "Orphan" if str(options["orphanDependents"]).lower() == "true" else "Background"
    if policy not in (None, "Background", "Foreground", "Orphan"):
        raise E.bad_request(f"unsupported propagation policy: {policy}")
    return policy or "Background"


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
