"""The RBAC authorizer: does any binding that names this user grant a rule matching the
request? Same matching, order (ClusterRoleBindings, then RoleBindings of the request's
namespace) and reasons as kube-apiserver's `rbac.RBACAuthorizer`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from localkube.rbac.attributes import Attributes
from localkube.rbac.user import UserInfo, service_account_name

GROUP = "rbac.authorization.k8s.io"


class PolicySource(Protocol):
    """Where the RBAC objects come from (the store, or a list in tests)."""

    def cluster_role_bindings(self) -> Iterable[dict]: ...
    def role_bindings(self, namespace: str) -> Iterable[dict]: ...
    def cluster_role(self, name: str) -> dict | None: ...
    def role(self, namespace: str, name: str) -> dict | None: ...


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # "RBAC: allowed by ..." or, when a bound role is missing, the errors


def _has(values: Any, wanted: str, wildcard: bool = True) -> bool:
    items = values if isinstance(values, list) else []
    return wanted in items or (wildcard and "*" in items)


def _resource_matches(rule: dict, resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for entry in rule.get("resources") or []:
        if entry in ("*", combined):
            return True
        if subresource and entry == f"*/{subresource}":
            return True
    return False


def _url_matches(rule: dict, path: str) -> bool:
    for entry in rule.get("nonResourceURLs") or []:
        if entry in ("*", path):
            return True
        if entry.endswith("*") and path.startswith(entry[:-1]):
            return True
    return False


def rule_allows(attrs: Attributes, rule: dict) -> bool:
    """RuleAllows: verbs, then groups/resources/names or non-resource URLs."""
    if not isinstance(rule, dict) or not _has(rule.get("verbs"), attrs.verb):
        return False
    if not attrs.resource_request:
        return _url_matches(rule, attrs.path)
    names = rule.get("resourceNames") or []
    return (_has(rule.get("apiGroups"), attrs.api_group)
            and _resource_matches(rule, attrs.resource, attrs.subresource)
            and (not names or attrs.name in names))


def _subject_of(user: UserInfo, subjects: Any, namespace: str) -> dict | None:
    """The first subject naming `user` (appliesTo); `namespace` is the binding's."""
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, dict):
            continue
        kind, name = subject.get("kind"), subject.get("name", "")
        if kind == "User" and name == user.name:
            return subject
        if kind == "Group" and name in user.groups:
            return subject
        if kind == "ServiceAccount":
            sa_ns = subject.get("namespace") or namespace
            if sa_ns and user.name == service_account_name(sa_ns, name):
                return subject
    return None


def _describe_subject(subject: dict, namespace: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        ns = subject.get("namespace") or namespace
        return f'{subject.get("kind")} "{subject.get("name", "")}/{ns}"'
    return f'{subject.get("kind")} "{subject.get("name", "")}"'


def _role_rules(source: PolicySource, ref: Any, namespace: str) -> tuple[list, str | None]:
    """The rules of a binding's roleRef, or the NotFound error text when it is missing."""
    ref = ref if isinstance(ref, dict) else {}
    kind, name = ref.get("kind"), str(ref.get("name", ""))
    if kind == "ClusterRole":
        role = source.cluster_role(name)
        missing = f'clusterrole.{GROUP} "{name}" not found'
    elif kind == "Role" and namespace:
        role = source.role(namespace, name)
        missing = f'role.{GROUP} "{name}" not found'
    else:
        return [], f"unsupported role reference kind: {kind!r}"
    if role is None:
        return [], missing
    rules = role.get("rules")
    return (rules if isinstance(rules, list) else []), None


def authorize(source: PolicySource, attrs: Attributes) -> Decision:
    """Allow when a rule bound to the user matches; otherwise no opinion (denied)."""
    errors: list[str] = []
    scopes: list[tuple[str, Iterable[dict]]] = [("", source.cluster_role_bindings())]
    if attrs.namespace:
        scopes.append((attrs.namespace, source.role_bindings(attrs.namespace)))
    for namespace, bindings in scopes:
        for binding in bindings:
            subject = _subject_of(attrs.user, binding.get("subjects"), namespace)
            if subject is None:
                continue
            ref = binding.get("roleRef") or {}
            rules, error = _role_rules(source, ref, namespace)
            if error:
                errors.append(error)
                continue
            if any(rule_allows(attrs, rule) for rule in rules):
                return Decision(True, "RBAC: allowed by " + _describe(binding, ref, subject,
                                                                       namespace))
    if not errors:
        return Decision(False)
    joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    return Decision(False, f"RBAC: {joined}")


def rules_for(source: PolicySource, user: UserInfo, namespace: str) -> tuple[list[dict], str]:
    """Every rule bound to `user` that applies in `namespace` (RulesFor, for
    SelfSubjectRulesReview) and the errors met, like `authorize` walks them."""
    rules: list[dict] = []
    errors: list[str] = []
    scopes: list[tuple[str, Iterable[dict]]] = [("", source.cluster_role_bindings())]
    if namespace:
        scopes.append((namespace, source.role_bindings(namespace)))
    for scope, bindings in scopes:
        for binding in bindings:
            if _subject_of(user, binding.get("subjects"), scope) is None:
                continue
            found, error = _role_rules(source, binding.get("roleRef"), scope)
            if error:
                errors.append(error)
            rules.extend(r for r in found if isinstance(r, dict))
    return rules, "; ".join(errors)


def _describe(binding: dict, ref: dict, subject: dict, namespace: str) -> str:
    name = binding.get("metadata", {}).get("name", "")
    kind = "RoleBinding" if namespace else "ClusterRoleBinding"
    shown = f"{name}/{namespace}" if namespace else name
    return (f'{kind} "{shown}" of {ref.get("kind")} "{ref.get("name", "")}" to '
            f"{_describe_subject(subject, namespace)}")


def qualified_resource(attrs: Attributes) -> str:
    """`pods`, `statefulsets.apps`: the group-resource a 403 Status is about ("" for paths)."""
    if not attrs.resource_request:
        return ""
    return f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource


def forbidden_detail(attrs: Attributes, reason: str = "") -> str:
    """Why a request is refused, as responsewriters.Forbidden words it; the 403 Status
    message is `<resource> "<name>" is forbidden: <this>`."""
    user = attrs.user.name
    if not attrs.resource_request:
        detail = f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    else:
        resource = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
        scope = (f'in the namespace "{attrs.namespace}"' if attrs.namespace
                 else "at the cluster scope")
        detail = (f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group '
                  f'"{attrs.api_group}" {scope}')
    return f"{detail}: {reason}" if reason else detail
