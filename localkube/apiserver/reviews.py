"""Self reviews, answered from the caller's identity and never stored:
SelfSubjectAccessReview (`kubectl auth can-i`) and SelfSubjectReview (`kubectl auth whoami`).
"""

from __future__ import annotations

from aiohttp import web

from localkube import resources as R
from localkube.apimachinery import errors as E
from localkube.apiserver import responses
from localkube.apiserver.authorization import decide
from localkube.apiserver.context import ApiContext
from localkube.apiserver.handlers import read_object
from localkube.apiserver.negotiation import negotiate
from localkube.apiserver.routing import Target, method_not_allowed
from localkube.rbac.attributes import Attributes
from localkube.rbac.user import UserInfo

REVIEWS = frozenset({R.SELFSUBJECTACCESSREVIEWS.key, R.SELFSUBJECTREVIEWS.key})


async def handle(
    ctx: ApiContext, request: web.Request, t: Target, user: UserInfo
) -> web.StreamResponse:
    if request.method != "POST" or t.name is not None:
        raise method_not_allowed()
    res = t.resource
    output = negotiate(request.headers.get("Accept"), allow_transform=False)
    body = await read_object(request, res.kind, res.group_version)
    if body.get("kind") not in (None, "", res.kind):
        raise E.bad_request(f"the kind of the object ({body.get('kind')}) does not match "
                            f"{res.kind}")
    if res is R.SELFSUBJECTREVIEWS:
        reply = _self_subject_review(user)
    else:
        reply = _access_review(ctx, user, body)
    return responses.obj(reply, output, 201)


def _self_subject_review(user: UserInfo) -> dict:
    info: dict = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        info["uid"] = user.uid
    return {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "status": {"userInfo": info}}


def _access_review(ctx: ApiContext, user: UserInfo, body: dict) -> dict:
    spec: dict = body.get("spec") or {}
    spec = spec if isinstance(spec, dict) else {}
    resource, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if bool(resource) == bool(non_resource):
        raise E.invalid("SelfSubjectAccessReview", "authorization.k8s.io", "", [E.field_invalid(
            "spec.resourceAttributes", resource,
            "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
    if isinstance(resource, dict):
        attrs = Attributes(user, str(resource.get("verb", "")), True, "",
                           str(resource.get("group", "")), str(resource.get("version", "")),
                           str(resource.get("namespace", "")), str(resource.get("resource", "")),
                           str(resource.get("subresource", "")), str(resource.get("name", "")))
    elif isinstance(non_resource, dict):
        attrs = Attributes(user, str(non_resource.get("verb", "")), False,
                           str(non_resource.get("path", "")))
    else:
        raise E.bad_request("spec.nonResourceAttributes must be an object")
    decision = decide(ctx.store, attrs)
    status: dict = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    return {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
