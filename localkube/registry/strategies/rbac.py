"""RBAC kinds: defaulting and validation from pkg/apis/rbac (v1 defaults, ValidatePolicyRule,
ValidateRoleBinding, the immutable roleRef). No escalation check: creating a Role does not
require holding its permissions, unlike kube-apiserver.
"""

from __future__ import annotations

from localkube.apimachinery import errors as E
from localkube.registry.strategies.base import Strategy

GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def _rule_causes(rules: object, namespaced: bool) -> list[dict]:
    if rules is None:
        return []
    if not isinstance(rules, list):
        return [E.field_invalid("rules", rules, "must be a list of policy rules")]
    out: list[dict] = []
    for i, rule in enumerate(rules):
        path = f"rules[{i}]"
        if not isinstance(rule, dict):
            out.append(E.field_invalid(path, rule, "must be an object"))
            continue
        if not rule.get("verbs"):
            out.append(E.field_required(f"{path}.verbs", "verbs must contain at least one value"))
        urls = rule.get("nonResourceURLs")
        if urls:
            if namespaced:
                out.append(E.field_invalid(f"{path}.nonResourceURLs", urls,
                                           "namespaced rules cannot apply to non-resource URLs"))
            if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
                out.append(E.field_invalid(f"{path}.nonResourceURLs", urls, "rules cannot apply "
                                           "to both regular resources and non-resource URLs"))
            continue
        if not rule.get("apiGroups"):
            out.append(E.field_required(f"{path}.apiGroups",
                                        "resource rules must supply at least one api group"))
        if not rule.get("resources"):
            out.append(E.field_required(f"{path}.resources",
                                        "resource rules must supply at least one resource"))
    return out


class RoleStrategy(Strategy):
    namespaced = True

    def validate(self, obj: dict) -> list[dict]:
        return _rule_causes(obj.get("rules"), self.namespaced)


class ClusterRoleStrategy(RoleStrategy):
    """`aggregationRule` is stored but not acted on (no aggregation controller)."""

    namespaced = False


class RoleBindingStrategy(Strategy):
    namespaced = True
    role_kinds: tuple[str, ...] = ("Role", "ClusterRole")

    def default(self, obj: dict) -> None:
        ref = obj.get("roleRef")
        if isinstance(ref, dict) and not ref.get("apiGroup"):
            ref["apiGroup"] = GROUP
        for subject in obj.get("subjects") or []:
            if isinstance(subject, dict) and not subject.get("apiGroup") \
                    and subject.get("kind") in ("User", "Group"):
                subject["apiGroup"] = GROUP

    def validate(self, obj: dict) -> list[dict]:
        ref: dict = obj.get("roleRef") or {}
        ref = ref if isinstance(ref, dict) else {}
        out: list[dict] = []
        if ref.get("apiGroup") != GROUP:
            out.append(E.field_not_supported("roleRef.apiGroup", ref.get("apiGroup", ""),
                                             [GROUP]))
        if ref.get("kind") not in self.role_kinds:
            out.append(E.field_not_supported("roleRef.kind", ref.get("kind", ""),
                                             self.role_kinds))
        if not ref.get("name"):
            out.append(E.field_required("roleRef.name"))
        subjects = obj.get("subjects") or []
        for i, subject in enumerate(subjects if isinstance(subjects, list) else []):
            out += self._subject_causes(subject if isinstance(subject, dict) else {},
                                        f"subjects[{i}]")
        return out

    def _subject_causes(self, subject: dict, path: str) -> list[dict]:
        out: list[dict] = []
        if not subject.get("name"):
            out.append(E.field_required(f"{path}.name"))
        kind, group = subject.get("kind"), subject.get("apiGroup", "")
        if kind == "ServiceAccount":
            if group:
                out.append(E.field_not_supported(f"{path}.apiGroup", group, [""]))
            if not self.namespaced and not subject.get("namespace"):
                out.append(E.field_required(f"{path}.namespace"))
        elif kind in ("User", "Group"):
            if group != GROUP:
                out.append(E.field_not_supported(f"{path}.apiGroup", group, [GROUP]))
        else:
            out.append(E.field_not_supported(f"{path}.kind", kind or "", SUBJECT_KINDS))
        return out

    def validate_update(self, new: dict, old: dict) -> list[dict]:
        if new.get("roleRef") != old.get("roleRef"):
            return [E.field_invalid("roleRef", new.get("roleRef"), "cannot change roleRef")]
        return []


class ClusterRoleBindingStrategy(RoleBindingStrategy):
    namespaced = False
    role_kinds = ("ClusterRole",)
