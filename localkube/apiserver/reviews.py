"""Self reviews, answered from the caller's identity and never stored:
SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`kubectl auth can-i
--list`) and SelfSubjectReview (`kubectl auth whoami`).
"""

from __future__ import annotations

from aiohttp import web

from localkube import resources as R
from localkube.apimachinery import errors as E
from localkube.apiserver import responses
from localkube.apiserver.authorization import StorePolicy, decide
from localkube.apiserver.context import ApiContext
from localkube.apiserver.handlers import read_object
from localkube.apiserver.negotiation import negotiate
from localkube.apiserver.routing import Target, method_not_allowed
from localkube.rbac.attributes import Attributes
from localkube.rbac.policy import rules_for
from localkube.rbac.user import UserInfo

REVIEWS = frozenset({R.SELFSUBJECTACCESSREVIEWS.key, R.SELFSUBJECTREVIEWS.key,
                     R.SELFSUBJECTRULESREVIEWS.key})


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
    elif res is R.SELFSUBJECTRULESREVIEWS:
        reply = _rules_review(ctx, user, body)
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


_RESOURCE_KEYS = ("verbs", "apiGroups", "resources", "resourceNames")


def _rules_review(ctx: ApiContext, user: UserInfo, body: dict) -> dict:
    spec: dict = body.get("spec") or {}
    spec = spec if isinstance(spec, dict) else {}
    rules, errors = rules_for(StorePolicy(ctx.store), user, str(spec.get("namespace") or ""))
    resource_rules, url_rules = [], []
    for rule in rules:
        if rule.get("nonResourceURLs"):
            url_rules.append({"verbs": rule.get("verbs") or [],
                              "nonResourceURLs": rule["nonResourceURLs"]})
        else:
            resource_rules.append({k: rule[k] for k in _RESOURCE_KEYS if rule.get(k)})
    status: dict = {"resourceRules": resource_rules, "nonResourceRules": url_rules,
                    "incomplete": bool(errors)}
    if errors:
        status["evaluationError"] = errors
    return {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
