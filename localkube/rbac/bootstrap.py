"""The default ClusterRoles and ClusterRoleBindings every kube-apiserver creates at start
(plugin/pkg/auth/authorizer/rbac/bootstrappolicy), limited to the ones that matter without
controllers of their own: admin access for system:masters, and discovery, version, health
and self-reviews for every authenticated user.
"""

from __future__ import annotations

from localkube.rbac.user import AUTHENTICATED, MASTERS, UNAUTHENTICATED

GROUP = "rbac.authorization.k8s.io"
_META = {"labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
         "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}

_PUBLIC_INFO = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
_DISCOVERY = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
              "/openapi/*", "/readyz", "/version", "/version/"]

CLUSTER_ROLES: dict[str, list[dict]] = {
    "cluster-admin": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ],
    "system:discovery": [{"nonResourceURLs": _DISCOVERY, "verbs": ["get"]}],
    "system:public-info-viewer": [{"nonResourceURLs": _PUBLIC_INFO, "verbs": ["get"]}],
    "system:basic-user": [
        {"apiGroups": ["authorization.k8s.io"],
         "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
         "verbs": ["create"]},
        {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"],
         "verbs": ["create"]},
    ],
}

CLUSTER_ROLE_BINDINGS: dict[str, list[str]] = {
    "cluster-admin": [MASTERS],
    "system:discovery": [AUTHENTICATED],
    "system:basic-user": [AUTHENTICATED],
    "system:public-info-viewer": [AUTHENTICATED, UNAUTHENTICATED],
}


def _meta(name: str) -> dict:
    return {"name": name, "labels": dict(_META["labels"]),
            "annotations": dict(_META["annotations"])}


def cluster_roles() -> list[dict]:
    return [{"apiVersion": f"{GROUP}/v1", "kind": "ClusterRole", "metadata": _meta(name),
             "rules": rules} for name, rules in CLUSTER_ROLES.items()]


def cluster_role_bindings() -> list[dict]:
    return [{"apiVersion": f"{GROUP}/v1", "kind": "ClusterRoleBinding", "metadata": _meta(name),
             "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": name},
             "subjects": [{"apiGroup": GROUP, "kind": "Group", "name": g} for g in groups]}
            for name, groups in CLUSTER_ROLE_BINDINGS.items()]
