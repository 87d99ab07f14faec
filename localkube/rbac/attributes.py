"""Request attributes for authorization, derived from the URL as the apiserver's
RequestInfoFactory does (before routing, so a forbidden request for a kind that is not
served is still a 403, not a 404).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from localkube.rbac.user import UserInfo

API_PREFIXES = ("api", "apis")
SPECIAL_VERBS = ("proxy", "watch")
NAMESPACE_SUBRESOURCES = ("status", "finalize")
METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update",
                "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class Attributes:
    """authorizer.Attributes: one request as the authorizer sees it."""

    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


def _true(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def request_attributes(user: UserInfo, method: str, path: str,
                       query: Mapping[str, str]) -> Attributes:
    """What `method path?query` asks to do (RequestInfoFactory.NewRequestInfo)."""
    parts = [p for p in path.strip("/").split("/") if p]
    non_resource = Attributes(user, method.lower(), False, path)
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return non_resource
    prefix, rest = parts[0], parts[1:]
    group = ""
    if prefix == "apis":
        if len(rest) < 3:
            return non_resource
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    if rest[0] in SPECIAL_VERBS:
        if len(rest) < 2:
            return non_resource
        verb, rest, by_method = rest[0], rest[1:], False
    else:
        verb, by_method = METHOD_VERBS.get(method, ""), True
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 and verb != "proxy" else ""
    if by_method and not name and verb == "delete":
        verb = "deletecollection"
    if by_method and not name and verb == "get":
        verb = "watch" if _true(query.get("watch")) else "list"
        name = _name_from_field_selector(query.get("fieldSelector"))
    elif by_method and verb == "get" and not subresource and _true(query.get("watch")):
        verb = "watch"  # localkube serves a watch here, so it takes watch permission
    return Attributes(user, verb, True, path, group, version, namespace, resource,
                      subresource, name)


def _name_from_field_selector(selector: str | None) -> str:
    """A list or watch whose field selector requires `metadata.name=X` is authorized as a
    request for X (so a Role with resourceNames can watch its one object)."""
    for term in (selector or "").split(","):
        key, op, value = term.partition("=")
        key, value = key.strip(), value.removeprefix("=").strip()
        if op and key == "metadata.name" and value and "/" not in value \
                and value not in (".", ".."):
            return value
    return ""
