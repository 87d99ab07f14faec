"""Subresources: status, scale, binding, eviction, and the streaming ones (exec, log,
portforward), each with the methods and reply shapes kube-apiserver uses.

Eviction and streaming live in modules written next to this one (`localkube.registry.eviction`,
`localkube.apiserver.streaming`); they are imported lazily so the API server still answers
with a `Status` when they are not part of the build.
"""

from __future__ import annotations

import importlib
import json
from types import ModuleType

from aiohttp import web

from localkube import resources as R
from localkube.apimachinery import errors as E
from localkube.apimachinery import patch as patches
from localkube.apimachinery.selectors import selector_to_string
from localkube.apiserver import handlers, responses, shapes, tokenrequest
from localkube.apiserver.context import ApiContext
from localkube.apiserver.negotiation import decode_body, dry_run, negotiate
from localkube.apiserver.routing import Target, method_not_allowed

STREAMING = {"exec": "exec_pod", "log": "log_pod", "portforward": "portforward_pod"}
METHODS = {
    "status": ("GET", "PUT", "PATCH"),
    "scale": ("GET", "PUT", "PATCH"),
    "binding": ("POST",),
    "eviction": ("POST",),
    "exec": ("GET", "POST"),
    "log": ("GET",),
    "portforward": ("GET", "POST"),
    "token": ("POST",),
}


async def handle(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    sub = t.subresource or ""
    if request.method not in METHODS.get(sub, ()):
        raise method_not_allowed()
    if sub == "status":
        return await _status(ctx, request, t)
    if sub == "scale":
        return await _scale(ctx, request, t)
    if sub == "binding":
        return await _binding(ctx, request, t)
    if sub == "eviction":
        return await _eviction(ctx, request, t)
    if sub in STREAMING:
        return await _streaming(ctx, request, t, sub)
    if sub == "token":
        return await tokenrequest.create_token(ctx, request, t)
    raise method_not_allowed()


async def _status(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    if request.method == "GET":
        return handlers.get(ctx, request, t)
    if request.method == "PUT":
        return await handlers.update(ctx, request, t)
    return await handlers.patch(ctx, request, t)


# -- scale -----------------------------------------------------------------------------------


def scale_of(sts: dict) -> dict:
    """The autoscaling/v1 Scale view of a StatefulSet."""
    meta = sts.get("metadata", {})
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                          "creationTimestamp") if k in meta},
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": {
            "replicas": status.get("replicas", 0),
            "selector": selector_to_string(spec.get("selector")),
        },
    }


async def _scale(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    res, ns, name = t.resource, t.namespace or "", t.name or ""
    output = negotiate(request.headers.get("Accept"), allow_transform=False)
    sts = ctx.registry.get(res, ns, name)
    if request.method == "GET":
        return responses.obj(scale_of(sts), output)
    is_dry = dry_run(request.query)
    if request.method == "PUT":
        scale = await handlers.read_object(request, "Scale", "autoscaling/v1")
    else:
        content_type, is_dry, _ = handlers.patch_options(request)
        body = decode_body(await request.read(), content_type, patch=True)
        scale = _patched_scale(scale_of(sts), content_type, body, name)
        shapes.check("Scale", "autoscaling/v1", scale)
    if scale.get("kind") not in (None, "", "Scale"):
        raise E.bad_request(f"the kind of the object ({scale.get('kind')}) does not match Scale")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise E.invalid("Scale", "autoscaling", name, [E.field_invalid(
            "spec.replicas", replicas, "must be greater than or equal to 0")])
    rv = (scale.get("metadata") or {}).get("resourceVersion")
    if rv not in (None, "") and str(rv) != sts["metadata"]["resourceVersion"]:
        raise E.conflict(res.key, name, "the object has been modified; please apply your "
                         "changes to the latest version and try again")
    sts.setdefault("spec", {})["replicas"] = replicas
    updated = ctx.registry.update(res, ns, name, sts, dry_run=is_dry)
    return responses.obj(scale_of(updated), output)


def _patched_scale(current: dict, content_type: str, body: object, name: str) -> dict:
    result = patches.patch_object(current, content_type, body, "Scale")
    if not isinstance(result, dict):
        raise E.bad_request("the patch did not produce an object")
    return result


# -- binding and eviction --------------------------------------------------------------------


async def _binding(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    name, ns = t.name or "", t.namespace or ""
    body = await handlers.read_object(request, "Binding", "v1")
    if body.get("kind") not in (None, "", "Binding"):
        raise E.bad_request(f"the kind of the object ({body.get('kind')}) does not match Binding")
    if (body.get("metadata") or {}).get("name") not in (None, "", name):
        raise E.bad_request("name in URL does not match name in Binding object")
    target = body.get("target") or {}
    node = target.get("name") if isinstance(target, dict) else None
    if not node or not isinstance(node, str):
        raise E.invalid("Binding", "", name, [E.field_required("target.name")])
    if target.get("kind") not in (None, "", "Node"):
        raise E.invalid("Binding", "", name, [E.field_not_supported(
            "target.kind", target.get("kind"), ["Node", "<empty>"])])
    if dry_run(request.query):
        ctx.registry.get(R.PODS, ns, name)
    else:
        ctx.registry.bind_pod(ns, name, node)
    return responses.obj(E.success_status(201), status=201)


async def _eviction(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    module = _optional("localkube.registry.eviction")
    if module is None:
        raise E.ApiError(501, "", "pods/eviction is not available in this build of localkube")
    body = await handlers.read_object(request, "Eviction", "policy/v1")
    code, reply = module.evict(ctx.registry, t.namespace or "", t.name or "", body)
    return responses.raw(json.dumps(reply).encode(), code)


# -- streaming -------------------------------------------------------------------------------


async def _streaming(
    ctx: ApiContext, request: web.Request, t: Target, sub: str
) -> web.StreamResponse:
    module = _optional("localkube.apiserver.streaming")
    handler = getattr(module, STREAMING[sub], None) if module else None
    if handler is None:
        raise E.ApiError(501, "", f"pods/{sub} is not available in this build of localkube")
    return await handler(request, ctx.cluster, t.namespace or "", t.name or "")


def _optional(name: str) -> ModuleType | None:
    """Import a module that may not be part of the build; other import errors propagate."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None
