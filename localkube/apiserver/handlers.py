"""CRUD verbs on a resource collection or object: get, list, create, update, patch, delete,
deletecollection.

Semantics (defaults, validation, conflicts, graceful deletion) belong to the registry; this
module only maps HTTP onto it: parameters, bodies, status codes and representations.
"""

from __future__ import annotations

import base64
import binascii
import json

from aiohttp import web

from localkube.apimachinery import errors as E
from localkube.apimachinery import patch as patches
from localkube.apiserver import printing, responses, shapes
from localkube.apiserver.context import ApiContext
from localkube.apiserver.negotiation import (
    As,
    decode_body,
    dry_run,
    negotiate,
    parse_bool,
    parse_int,
)
from localkube.apiserver.routing import Target, method_not_allowed
from localkube.registry import fields
from localkube.registry.core import APPLY_PATCH, PATCH_TYPES
from localkube.resources import Resource


def require_verb(res: Resource, verb: str) -> None:
    if verb not in res.verbs:
        raise method_not_allowed()


async def read_object(request: web.Request, kind: str, version: str) -> dict:
    """The body of a create/update: one JSON, YAML or protobuf object shaped like `kind`."""
    body = decode_body(await request.read(), request.headers.get("Content-Type"))
    if not isinstance(body, dict):
        raise E.bad_request("the body of the request must be a JSON or YAML object")
    shapes.check(kind, version, body)
    return body


# -- reads ---------------------------------------------------------------------------------


def get(ctx: ApiContext, request: web.Request, t: Target) -> web.Response:
    require_verb(t.resource, "get")
    res = t.resource
    output = negotiate(request.headers.get("Accept"), allow_transform=True)
    raw = ctx.store.get_raw(res.key, t.namespace or "", t.name or "")
    if raw is None:
        raise E.not_found(res.key, t.name or "")
    if output.as_ is As.OBJECT and output.media_type == "application/json":
        return responses.raw(raw)
    obj = json.loads(raw)
    if output.as_ is As.PARTIAL_LIST:
        raise E.not_acceptable("PartialObjectMetadataList is only served for lists")
    include = printing.include_object(request.query.get("includeObject"))
    rv = obj.get("metadata", {}).get("resourceVersion", "")
    return responses.obj(printing.transform_one(res, obj, rv, output, include), output)


def list_(ctx: ApiContext, request: web.Request, t: Target) -> web.Response:
    require_verb(t.resource, "list")
    res, q = t.resource, request.query
    output = negotiate(request.headers.get("Accept"), allow_transform=True)
    include = printing.include_object(q.get("includeObject"))
    predicate = fields.predicate(res, q.get("labelSelector"), q.get("fieldSelector"))
    limit = parse_int(q, "limit") or 0
    rv = str(ctx.store.resource_version)
    start = _continue_key(q.get("continue"))
    matches = [
        (obj, raw)
        for obj, raw in ctx.store.scan(res.key, t.namespace if res.namespaced else None)
        if (start is None or _key(obj) > start) and predicate(obj)
    ]
    meta: dict = {"resourceVersion": rv}
    if 0 < limit < len(matches):
        last = _key(matches[limit - 1][0])
        token = json.dumps({"rv": rv, "start": last}).encode()
        meta["continue"] = base64.urlsafe_b64encode(token).decode()
        meta["remainingItemCount"] = len(matches) - limit
        matches = matches[:limit]
    if output.as_ is As.OBJECT and output.media_type == "application/json":
        body = responses.list_bytes(
            res.list_kind, res.group_version, meta, [raw for _, raw in matches]
        )
        return responses.raw(body)
    objs = [obj for obj, _ in matches]
    if output.as_ is As.OBJECT:
        items = [json.loads(raw) for _, raw in matches]
        value = {"kind": res.list_kind, "apiVersion": res.group_version, "metadata": meta,
                 "items": items}
        return responses.obj(value, output)
    if output.as_ is As.PARTIAL:
        raise E.not_acceptable("PartialObjectMetadata is only served for single objects")
    return responses.obj(printing.transform_list(res, objs, rv, output, include), output)


def _key(obj: dict) -> list[str]:
    meta = obj.get("metadata", {})
    return [meta.get("namespace", ""), meta.get("name", "")]


def _continue_key(token: str | None) -> list[str] | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        start = data["start"]
        if isinstance(start, list) and len(start) == 2 and all(isinstance(s, str) for s in start):
            return start
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise E.bad_request("continue key is not valid: the continue token could not be decoded")


# -- writes --------------------------------------------------------------------------------


async def create(ctx: ApiContext, request: web.Request, t: Target) -> web.Response:
    res = t.resource
    require_verb(res, "create")
    if res.namespaced and t.namespace is None:
        raise method_not_allowed()
    output = negotiate(request.headers.get("Accept"), allow_transform=False)
    is_dry = dry_run(request.query)
    body = await read_object(request, res.kind, res.group_version)
    created = ctx.registry.create(res, t.namespace or "", body, dry_run=is_dry)
    return responses.obj(created, output, 201)


async def update(ctx: ApiContext, request: web.Request, t: Target) -> web.Response:
    res = t.resource
    require_verb(res, "update")
    output = negotiate(request.headers.get("Accept"), allow_transform=False)
    is_dry = dry_run(request.query)
    body = await read_object(request, res.kind, res.group_version)
    updated = ctx.registry.update(
        res, t.namespace or "", t.name or "", body, subresource=t.subresource, dry_run=is_dry
    )
    return responses.obj(updated, output)


def patch_options(request: web.Request) -> tuple[str, bool, bool]:
    """Content type, dryRun and force, validated as ValidatePatchOptions does (422)."""
    content_type = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type not in PATCH_TYPES:
        raise E.unsupported_media_type(PATCH_TYPES)
    q = request.query
    is_dry = dry_run(q)
    causes = []
    if content_type == APPLY_PATCH:
        if not q.get("fieldManager"):
            causes.append(E.field_required("fieldManager", "is required for apply patch"))
    elif "force" in q:
        causes.append(E.field_forbidden("force", "may not be specified for non-apply patch"))
    if causes:
        raise E.invalid("PatchOptions", "meta.k8s.io", "", causes)
    return content_type, is_dry, parse_bool(q, "force")


async def patch(ctx: ApiContext, request: web.Request, t: Target) -> web.Response:
    res = t.resource
    require_verb(res, "patch")
    output = negotiate(request.headers.get("Accept"), allow_transform=False)
    content_type, is_dry, force = patch_options(request)
    body = decode_body(await request.read(), content_type, patch=True)
    _check_patch_result(ctx, t, content_type, body)
    obj, created = ctx.registry.patch(
        res, t.namespace or "", t.name or "", content_type, body,
        subresource=t.subresource, dry_run=is_dry, force=force,
    )
    return responses.obj(obj, output, 201 if created else 200)


def _check_patch_result(ctx: ApiContext, t: Target, content_type: str, body: object) -> None:
    """Patch a copy first and check its shape, so a patch that turns a list into a string is
    a 400 (as decoding the patched object is in the apiserver), not a crash in the registry."""
    res = t.resource
    current = ctx.store.get(res.key, t.namespace or "", t.name or "")
    if current is None:
        if content_type == APPLY_PATCH:
            shapes.check(res.kind, res.group_version, body)
        return  # the registry answers 404
    shapes.check(res.kind, res.group_version,
                 patches.patch_object(current, content_type, body, res.kind))


async def delete_options(request: web.Request) -> dict:
    """DeleteOptions from the query string, overridden by a JSON body when there is one."""
    q = request.query
    options: dict = {}
    grace = parse_int(q, "gracePeriodSeconds")
    if grace is not None:
        options["gracePeriodSeconds"] = grace
    if q.get("propagationPolicy"):
        options["propagationPolicy"] = q["propagationPolicy"]
    if q.get("orphanDependents"):
        options["orphanDependents"] = parse_bool(q, "orphanDependents")
    if dry_run(q):
        options["dryRun"] = ["All"]
    raw = await request.read()
    if raw.strip():
        body = decode_body(raw, request.headers.get("Content-Type"))
        if not isinstance(body, dict):
            raise E.bad_request("the body of the request must be a DeleteOptions object")
        if body.get("kind") not in (None, "", "DeleteOptions"):
            raise E.bad_request(f"the body of the request was not a DeleteOptions: {body['kind']}")
        shapes.check_delete_options(body)
        options.update({k: v for k, v in body.items() if k not in ("kind", "apiVersion")})
    _check_delete_options(options)
    return options


def _check_delete_options(options: dict) -> None:
    grace = options.get("gracePeriodSeconds")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int)):
        raise E.bad_request("gracePeriodSeconds must be an integer")
    dry = options.get("dryRun")
    if dry not in (None, [], ["All"]):
        raise E.bad_request(f"Invalid dryRun value: {dry!r} (valid values are 'All')")
    if options.get("preconditions") is not None and not isinstance(options["preconditions"], dict):
        raise E.bad_request("preconditions must be an object")
    if options.get("propagationPolicy") is not None and options.get("orphanDependents") is not None:
        raise E.invalid("DeleteOptions", "meta.k8s.io", "", [E.field_invalid(
            "propagationPolicy", options["propagationPolicy"],
            "orphanDependents and deletionPropagation cannot be both set")])


async def delete(ctx: ApiContext, request: web.Request, t: Target) -> web.Response:
    res = t.resource
    require_verb(res, "delete")
    output = negotiate(request.headers.get("Accept"), allow_transform=False)
    options = await delete_options(request)
    result, removed = ctx.registry.delete(res, t.namespace or "", t.name or "", options)
    # The apiserver answers 202 only for a not-yet-finished delete with orphanDependents=false.
    code = 202 if not removed and options.get("orphanDependents") is False else 200
    return responses.obj(result, output, code)


async def delete_collection(ctx: ApiContext, request: web.Request, t: Target) -> web.Response:
    res = t.resource
    require_verb(res, "deletecollection")
    output = negotiate(request.headers.get("Accept"), allow_transform=False)
    options = await delete_options(request)
    q = request.query
    items = ctx.registry.delete_collection(
        res, t.namespace if res.namespaced else None, q.get("labelSelector"),
        q.get("fieldSelector"), options,
    )
    value = {
        "kind": res.list_kind,
        "apiVersion": res.group_version,
        "metadata": {"resourceVersion": str(ctx.store.resource_version)},
        "items": items,
    }
    return responses.obj(value, output)
