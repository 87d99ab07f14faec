"""RBAC decisions and 403 wording without a server: request attributes from URLs, rule
matching, binding scopes and the reasons kube-apiserver's RBAC authorizer gives."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from localkube.apimachinery.errors import forbidden
from localkube.rbac.attributes import request_attributes
from localkube.rbac.policy import authorize, forbidden_detail, qualified_resource
from localkube.rbac.tokens import TokenIssuer
from localkube.rbac.user import service_account_user

SA = service_account_user("default", "zkdrill")
GROUP = "rbac.authorization.k8s.io"


class Policy:
    """An in-memory PolicySource."""

    def __init__(self) -> None:
        self.cluster_roles: dict[str, dict] = {}
        self.roles: dict[tuple[str, str], dict] = {}
        self.crbs: list[dict] = []
        self.rbs: list[dict] = []

    def cluster_role_bindings(self) -> Iterable[dict]:
        return self.crbs

    def role_bindings(self, namespace: str) -> Iterable[dict]:
        return [b for b in self.rbs if b["metadata"]["namespace"] == namespace]

    def cluster_role(self, name: str) -> dict | None:
        return self.cluster_roles.get(name)

    def role(self, namespace: str, name: str) -> dict | None:
        return self.roles.get((namespace, name))

    def add_role(self, namespace: str, name: str, *rules: dict) -> Policy:
        self.roles[(namespace, name)] = {"rules": list(rules)}
        return self

    def add_cluster_role(self, name: str, *rules: dict) -> Policy:
        self.cluster_roles[name] = {"rules": list(rules)}
        return self

    def bind(self, namespace: str, name: str, kind: str, role: str,
             subject: dict | None = None) -> Policy:
        binding = {"metadata": {"name": name, "namespace": namespace},
                   "roleRef": {"apiGroup": GROUP, "kind": kind, "name": role},
                   "subjects": [subject or {"kind": "ServiceAccount", "name": "zkdrill",
                                            "namespace": "default"}]}
        (self.rbs if namespace else self.crbs).append(binding)
        return self


def rule(verbs: list[str], resources: list[str], groups: list[str] | None = None,
         names: list[str] | None = None) -> dict:
    out = {"verbs": verbs, "apiGroups": [""] if groups is None else groups,
           "resources": resources}
    if names:
        out["resourceNames"] = names
    return out


def allowed(policy: Policy, method: str, path: str, **query: str) -> bool:
    return authorize(policy, request_attributes(SA, method, path, query)).allowed


@pytest.mark.parametrize(("method", "path", "query", "verb", "sub", "name"), [
    ("GET", "/api/v1/namespaces/default/pods", {}, "list", "", ""),
    ("GET", "/api/v1/namespaces/default/pods", {"watch": "true"}, "watch", "", ""),
    ("GET", "/api/v1/watch/namespaces/default/pods", {}, "watch", "", ""),
    ("GET", "/api/v1/namespaces/default/pods", {"fieldSelector": "metadata.name=zk-0"},
     "list", "", "zk-0"),
    ("GET", "/api/v1/namespaces/default/pods/zk-0", {}, "get", "", "zk-0"),
    ("POST", "/api/v1/namespaces/default/pods", {}, "create", "", ""),
    ("PUT", "/api/v1/namespaces/default/pods/zk-0", {}, "update", "", "zk-0"),
    ("PATCH", "/api/v1/namespaces/default/pods/zk-0", {}, "patch", "", "zk-0"),
    ("DELETE", "/api/v1/namespaces/default/pods/zk-0", {}, "delete", "", "zk-0"),
    ("DELETE", "/api/v1/namespaces/default/pods", {}, "deletecollection", "", ""),
    ("POST", "/api/v1/namespaces/default/pods/zk-0/eviction", {}, "create", "eviction", "zk-0"),
    # 1.32: a WebSocket exec/port-forward is a GET and needs `get` (create only from 1.35)
    ("GET", "/api/v1/namespaces/default/pods/zk-0/exec", {}, "get", "exec", "zk-0"),
    ("POST", "/api/v1/namespaces/default/pods/zk-0/exec", {}, "create", "exec", "zk-0"),
    ("GET", "/api/v1/namespaces/default/pods/zk-0/portforward", {}, "get", "portforward",
     "zk-0"),
    ("GET", "/api/v1/namespaces/default/pods/zk-0/log", {}, "get", "log", "zk-0"),
    ("PATCH", "/apis/apps/v1/namespaces/default/statefulsets/zk/scale", {}, "patch", "scale",
     "zk"),
])
def test_request_attributes(method: str, path: str, query: dict, verb: str, sub: str,
                            name: str) -> None:
    attrs = request_attributes(SA, method, path, query)
    assert (attrs.resource_request, attrs.verb, attrs.subresource, attrs.name) == (
        True, verb, sub, name)


def test_discovery_paths_are_non_resource_requests() -> None:
    for path in ("/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/version",
                 "/openapi/v3/apis/apps/v1"):
        attrs = request_attributes(SA, "GET", path, {})
        assert (attrs.resource_request, attrs.verb, attrs.path) == (False, "get", path)


def test_verbs_subresources_and_wildcards() -> None:
    policy = Policy().add_role("default", "r", rule(["create"], ["pods/eviction"]),
                               rule(["get"], ["*/log"]), rule(["*"], ["configmaps"]))
    policy.bind("default", "rb", "Role", "r")
    assert allowed(policy, "POST", "/api/v1/namespaces/default/pods/zk-0/eviction")
    assert not allowed(policy, "POST", "/api/v1/namespaces/default/pods")  # pods != pods/eviction
    assert allowed(policy, "GET", "/api/v1/namespaces/default/pods/zk-0/log")
    assert not allowed(policy, "GET", "/api/v1/namespaces/default/pods/zk-0/exec")
    assert allowed(policy, "DELETE", "/api/v1/namespaces/default/configmaps")
    assert not allowed(policy, "GET", "/api/v1/namespaces/default/pods/zk-0")


def test_api_groups_must_match() -> None:
    policy = Policy().add_role("default", "r", rule(["get"], ["statefulsets"], ["apps"]))
    policy.bind("default", "rb", "Role", "r")
    assert allowed(policy, "GET", "/apis/apps/v1/namespaces/default/statefulsets/zk")
    assert not allowed(policy, "GET", "/apis/policy/v1/namespaces/default/statefulsets/zk")


def test_resource_names_limit_named_requests_only() -> None:
    policy = Policy().add_role("default", "r", rule(["get", "list", "watch", "update"],
                                                    ["configmaps"], names=["zkdrill-journal"]))
    policy.bind("default", "rb", "Role", "r")
    base = "/api/v1/namespaces/default/configmaps"
    assert allowed(policy, "GET", f"{base}/zkdrill-journal")
    assert allowed(policy, "PUT", f"{base}/zkdrill-journal")
    assert not allowed(policy, "GET", f"{base}/other")
    assert not allowed(policy, "GET", base)  # a plain list names nothing
    assert allowed(policy, "GET", base, watch="1", fieldSelector="metadata.name=zkdrill-journal")
    assert not allowed(policy, "POST", base)  # create has no name


def test_role_binding_grants_only_in_its_namespace_even_for_a_cluster_role() -> None:
    policy = Policy().add_cluster_role("pod-reader", rule(["get", "list"], ["pods"]))
    policy.bind("zk", "rb", "ClusterRole", "pod-reader")
    assert allowed(policy, "GET", "/api/v1/namespaces/zk/pods")
    assert not allowed(policy, "GET", "/api/v1/namespaces/default/pods")
    assert not allowed(policy, "GET", "/api/v1/pods")  # cluster-wide list


def test_cluster_role_binding_grants_everywhere() -> None:
    policy = Policy().add_cluster_role("nodes", rule(["get", "list", "patch"], ["nodes"]),
                                       rule(["list"], ["pods"]))
    policy.bind("", "crb", "ClusterRole", "nodes")
    assert allowed(policy, "PATCH", "/api/v1/nodes/node-1")
    assert allowed(policy, "GET", "/api/v1/pods")
    assert allowed(policy, "GET", "/api/v1/namespaces/other/pods")
    assert not allowed(policy, "DELETE", "/api/v1/nodes/node-1")


def test_subjects_by_group_user_and_default_namespace() -> None:
    policy = Policy().add_cluster_role("r", rule(["get"], ["pods"]))
    policy.bind("default", "by-group", "ClusterRole", "r",
                {"kind": "Group", "name": "system:serviceaccounts:default"})
    assert allowed(policy, "GET", "/api/v1/namespaces/default/pods/p")
    other = Policy().add_cluster_role("r", rule(["get"], ["pods"]))
    other.bind("default", "sa-no-ns", "ClusterRole", "r",
               {"kind": "ServiceAccount", "name": "zkdrill"})  # namespace of the binding
    assert allowed(other, "GET", "/api/v1/namespaces/default/pods/p")
    user = Policy().add_cluster_role("r", rule(["get"], ["pods"]))
    user.bind("", "user", "ClusterRole", "r", {"kind": "User", "name": "someone-else"})
    assert not allowed(user, "GET", "/api/v1/namespaces/default/pods/p")


def test_non_resource_urls_with_a_trailing_star() -> None:
    policy = Policy().add_cluster_role("d", {"verbs": ["get"],
                                             "nonResourceURLs": ["/api", "/apis/*"]})
    policy.bind("", "d", "ClusterRole", "d")
    assert allowed(policy, "GET", "/api")
    assert allowed(policy, "GET", "/apis/apps/v1")
    assert not allowed(policy, "GET", "/api/v1")
    assert not allowed(policy, "POST", "/api")


def test_allow_reason_names_the_binding() -> None:
    policy = Policy().add_role("default", "r", rule(["get"], ["pods"]))
    policy.bind("default", "rb", "Role", "r")
    decision = authorize(policy, request_attributes(SA, "GET",
                                                    "/api/v1/namespaces/default/pods/p", {}))
    assert decision.reason == ('RBAC: allowed by RoleBinding "rb/default" of Role "r" to '
                               'ServiceAccount "zkdrill/default"')


def message(method: str, path: str, reason: str = "", **query: str) -> str:
    attrs = request_attributes(SA, method, path, query)
    return forbidden(qualified_resource(attrs), attrs.name,
                     forbidden_detail(attrs, reason)).message


def test_forbidden_messages_match_kube_apiserver() -> None:
    user = '"system:serviceaccount:default:zkdrill"'
    assert message("POST", "/api/v1/namespaces/default/pods/zk-0/eviction") == (
        f'pods "zk-0" is forbidden: User {user} cannot create resource "pods/eviction" in '
        'API group "" in the namespace "default"')
    assert message("GET", "/api/v1/namespaces/default/pods") == (
        f'pods is forbidden: User {user} cannot list resource "pods" in API group "" in the '
        'namespace "default"')
    assert message("GET", "/api/v1/nodes") == (
        f'nodes is forbidden: User {user} cannot list resource "nodes" in API group "" at '
        "the cluster scope")
    assert message("PATCH", "/apis/apps/v1/namespaces/zk/statefulsets/zk") == (
        f'statefulsets.apps "zk" is forbidden: User {user} cannot patch resource '
        '"statefulsets" in API group "apps" in the namespace "zk"')
    assert message("GET", "/metrics") == f'forbidden: User {user} cannot get path "/metrics"'


def test_a_binding_to_a_missing_role_is_named_in_the_reason() -> None:
    policy = Policy().bind("default", "rb", "Role", "gone")
    attrs = request_attributes(SA, "GET", "/api/v1/namespaces/default/pods", {})
    decision = authorize(policy, attrs)
    assert not decision.allowed
    assert decision.reason == 'RBAC: role.rbac.authorization.k8s.io "gone" not found'
    assert forbidden_detail(attrs, decision.reason).endswith(
        'in the namespace "default": RBAC: role.rbac.authorization.k8s.io "gone" not found')


def test_tokens_verify_until_they_expire() -> None:
    issuer = TokenIssuer(b"k" * 32)
    token = issuer.issue("default", "zkdrill", "uid-1", ["aud"], now=1000, seconds=600)
    claims = issuer.verify(token, now=1599)
    assert claims is not None
    assert (claims.namespace, claims.name, claims.uid, claims.audiences) == (
        "default", "zkdrill", "uid-1", ("aud",))
    assert issuer.verify(token, now=1600) is None
    assert TokenIssuer(b"x" * 32).verify(token, now=1000) is None  # another cluster's key
    header, payload, signature = token.split(".")
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    assert issuer.verify(f"{header}.{forged}.{signature}", now=1000) is None
