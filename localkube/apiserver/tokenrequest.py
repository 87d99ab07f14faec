"""`POST .../serviceaccounts/{name}/token` (TokenRequest, `kubectl create token`): a signed
token for the service account, valid for the API server's audience unless others are asked.
"""

from __future__ import annotations

from aiohttp import web

from localkube import resources as R
from localkube.apimachinery import errors as E
from localkube.apimachinery.meta import format_time
from localkube.apiserver import responses
from localkube.apiserver.context import ApiContext
from localkube.apiserver.handlers import read_object
from localkube.apiserver.negotiation import dry_run, negotiate
from localkube.apiserver.routing import Target
from localkube.rbac.tokens import API_AUDIENCES, DEFAULT_EXPIRATION, MAX_EXPIRATION, MIN_EXPIRATION

KIND, API_VERSION = "TokenRequest", "authentication.k8s.io/v1"


async def create_token(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    namespace, name = t.namespace or "", t.name or ""
    output = negotiate(request.headers.get("Accept"), allow_transform=False)
    body = await read_object(request, KIND, API_VERSION)
    if body.get("kind") not in (None, "", KIND):
        raise E.bad_request(f"the kind of the object ({body.get('kind')}) does not match {KIND}")
    spec: dict = body.get("spec") or {}
    spec = spec if isinstance(spec, dict) else {}
    seconds = spec.get("expirationSeconds")
    seconds = DEFAULT_EXPIRATION if seconds is None else seconds
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise E.bad_request("spec.expirationSeconds must be an integer")
    if seconds < MIN_EXPIRATION:
        detail = "may not specify a duration less than 10 minutes"
    elif seconds > MAX_EXPIRATION:
        detail = "may not specify a duration larger than 2^32 seconds"
    else:
        detail = ""
    if detail:
        raise E.invalid(KIND, "authentication.k8s.io", name, [E.field_invalid(
            "spec.expirationSeconds", seconds, detail)])
    audiences = [str(a) for a in spec.get("audiences") or []] or list(API_AUDIENCES)
    account = ctx.registry.get(R.SERVICEACCOUNTS, namespace, name)  # 404 when missing
    now = int(ctx.registry.clock())
    token = "" if dry_run(request.query) else ctx.tokens.issue(
        namespace, name, str(account["metadata"].get("uid", "")), audiences, now, seconds)
    reply = {
        "kind": KIND, "apiVersion": API_VERSION,
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
        "spec": {"audiences": audiences, "expirationSeconds": seconds,
                 "boundObjectRef": spec.get("boundObjectRef")},
        "status": {"token": token, "expirationTimestamp": format_time(now + seconds)},
    }
    return responses.obj(reply, output, 201)
