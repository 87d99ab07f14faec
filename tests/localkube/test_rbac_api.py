"""Service account tokens and RBAC enforcement through the API, with kubectl and raw HTTP.

The admin token of the kubeconfig stays all-powerful (system:masters); every other identity
is authorized per request, and a denial is kube-apiserver's 403 Status, word for word.
"""

from __future__ import annotations

import os

import pytest

from tests.localkube.conftest import REPO, ControlPlane

pytestmark = pytest.mark.slow

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def service_account(cp: ControlPlane, namespace: str, name: str = "zkdrill") -> str:
    """Create a service account and return a token for it (what `kubectl create token` does)."""
    created = cp.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts",
                         {"metadata": {"name": name}})
    assert created.status == 201, created.body
    reply = cp.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                       {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                        "spec": {}})
    assert reply.status == 201, reply.body
    body = reply.json()
    assert body["kind"] == "TokenRequest" and body["spec"]["expirationSeconds"] == 3600
    assert body["status"]["expirationTimestamp"].endswith("Z")
    return str(body["status"]["token"])


def role(cp: ControlPlane, namespace: str, name: str, *rules: dict) -> None:
    reply = cp.request("POST", f"{RBAC}/namespaces/{namespace}/roles",
                       {"metadata": {"name": name}, "rules": list(rules)})
    assert reply.status == 201, reply.body


def cluster_role(cp: ControlPlane, name: str, *rules: dict) -> None:
    reply = cp.request("POST", f"{RBAC}/clusterroles",
                       {"metadata": {"name": name}, "rules": list(rules)})
    assert reply.status == 201, reply.body


def bind(cp: ControlPlane, namespace: str | None, name: str, kind: str, role_name: str,
         sa_namespace: str, sa: str = "zkdrill") -> None:
    body = {"metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind,
                        "name": role_name},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": sa_namespace}]}
    path = f"{RBAC}/namespaces/{namespace}/rolebindings" if namespace else \
        f"{RBAC}/clusterrolebindings"
    reply = cp.request("POST", path, body)
    assert reply.status == 201, reply.body


def test_token_request_gives_a_working_token(control_plane, kubectl, namespace) -> None:
    token = service_account(control_plane, namespace)
    out = kubectl("--token", token, "auth", "whoami").stdout
    assert f"system:serviceaccount:{namespace}:zkdrill" in out
    assert f"[system:serviceaccounts system:serviceaccounts:{namespace} " \
           "system:authenticated]" in out
    # kubectl's own TokenRequest (protobuf body) works too
    printed = kubectl("-n", namespace, "create", "token", "zkdrill", "--duration", "20m").stdout
    whoami = kubectl("--token", printed.strip(), "auth", "whoami", "-o", "json").stdout
    assert f"system:serviceaccount:{namespace}:zkdrill" in whoami


def test_token_request_validation(control_plane, namespace) -> None:
    service_account(control_plane, namespace)
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts"
    short = control_plane.request("POST", f"{path}/zkdrill/token",
                                  {"spec": {"expirationSeconds": 60}})
    assert short.status == 422
    assert short.json()["message"] == (
        'TokenRequest.authentication.k8s.io "zkdrill" is invalid: spec.expirationSeconds: '
        "Invalid value: 60: may not specify a duration less than 10 minutes")
    missing = control_plane.request("POST", f"{path}/nobody/token", {"spec": {}})
    assert (missing.status, missing.json()["message"]) == (
        404, 'serviceaccounts "nobody" not found')


def test_unknown_and_revoked_tokens_are_401(control_plane, namespace) -> None:
    token = service_account(control_plane, namespace)
    pods = f"/api/v1/namespaces/{namespace}/pods"
    assert control_plane.request("GET", "/api", token=token).status == 200
    assert control_plane.request("GET", pods, token=token + "x").status == 401
    other_audience = control_plane.request(
        "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/zkdrill/token",
        {"spec": {"audiences": ["vault"]}}).json()["status"]["token"]
    assert control_plane.request("GET", "/api", token=other_audience).status == 401
    control_plane.request("DELETE", f"/api/v1/namespaces/{namespace}/serviceaccounts/zkdrill")
    gone = control_plane.request("GET", "/api", token=token)
    assert (gone.status, gone.json()["reason"]) == (401, "Unauthorized")


def test_discovery_and_version_are_open_to_every_service_account(control_plane, kubectl,
                                                                 namespace) -> None:
    token = service_account(control_plane, namespace)
    for path in ("/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/openapi/v3",
                 "/healthz", "/readyz"):
        assert control_plane.request("GET", path, token=token).status == 200, path
    resources = kubectl("--token", token, "api-resources").stdout
    assert "statefulsets" in resources and "leases" in resources
    metrics = control_plane.request("GET", "/metrics", token=token)
    assert (metrics.status, metrics.json()["message"]) == (
        403, f'forbidden: User "system:serviceaccount:{namespace}:zkdrill" cannot get path '
             '"/metrics"')


def test_denied_requests_get_kube_apiservers_403(control_plane, kubectl, namespace) -> None:
    token = service_account(control_plane, namespace)
    user = f"system:serviceaccount:{namespace}:zkdrill"
    evict = control_plane.request(
        "POST", f"/api/v1/namespaces/{namespace}/pods/zk-0/eviction",
        {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "zk-0"}},
        token=token)
    assert evict.status == 403
    assert evict.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'pods "zk-0" is forbidden: User "{user}" cannot create resource '
                   f'"pods/eviction" in API group "" in the namespace "{namespace}"',
        "reason": "Forbidden", "details": {"name": "zk-0", "kind": "pods"}, "code": 403}
    nodes = kubectl("--token", token, "get", "nodes", check=False)
    assert nodes.returncode == 1
    assert nodes.stderr.strip() == (
        f'Error from server (Forbidden): nodes is forbidden: User "{user}" cannot list '
        'resource "nodes" in API group "" at the cluster scope')
    # a kind localkube does not serve is still a 403 (authorization comes before routing)
    assert control_plane.request("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments",
                                 token=token).status == 403


def test_role_binding_grants_verbs_subresources_and_names(control_plane, namespace) -> None:
    token = service_account(control_plane, namespace)
    role(control_plane, namespace, "drill",
         {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
         {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
         {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update", "patch"],
          "resourceNames": ["zkdrill-journal"]},
         {"apiGroups": ["apps"], "resources": ["statefulsets/scale"], "verbs": ["patch"]})
    bind(control_plane, namespace, "drill", "Role", "drill", namespace)
    ns = f"/api/v1/namespaces/{namespace}"
    journal = control_plane.request("POST", f"{ns}/configmaps",
                                    {"metadata": {"name": "zkdrill-journal"}})
    assert journal.status == 201

    def status(method: str, path: str, body: object = None, **headers: str) -> int:
        return control_plane.request(method, path, body, token=token, headers=headers).status

    assert status("GET", f"{ns}/pods") == 200
    assert status("GET", f"{ns}/pods?watch=1&timeoutSeconds=1") == 200
    assert status("DELETE", f"{ns}/pods/zk-0") == 403
    assert status("POST", f"{ns}/pods/zk-0/eviction", {"metadata": {"name": "zk-0"}}) == 404
    merge = {"Content-Type": "application/merge-patch+json"}
    assert status("PATCH", f"{ns}/configmaps/zkdrill-journal", {"data": {"a": "1"}},
                  **merge) == 200
    assert status("PATCH", f"{ns}/configmaps/other", {"data": {"a": "1"}}, **merge) == 403
    assert status("GET", f"{ns}/configmaps") == 403  # resourceNames never cover a list
    sts = f"/apis/apps/v1/namespaces/{namespace}/statefulsets/zk"
    assert status("PATCH", f"{sts}/scale", {"spec": {"replicas": 1}}, **merge) == 404
    assert status("PATCH", sts, {"spec": {"replicas": 1}}, **merge) == 403
    other = f"t-{os.urandom(4).hex()}"
    assert control_plane.request("POST", "/api/v1/namespaces",
                                 {"metadata": {"name": other}}).status == 201
    try:
        assert status("GET", f"/api/v1/namespaces/{other}/pods") == 403
    finally:
        control_plane.request("DELETE", f"/api/v1/namespaces/{other}")


def test_cluster_role_by_role_binding_and_by_cluster_role_binding(control_plane,
                                                                  namespace) -> None:
    token = service_account(control_plane, namespace)
    name = f"reader-{namespace}"
    cluster_role(control_plane, name,
                 {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["list"]})
    bind(control_plane, namespace, "reader", "ClusterRole", name, namespace)
    assert control_plane.request("GET", f"/api/v1/namespaces/{namespace}/pods",
                                 token=token).status == 200
    assert control_plane.request("GET", "/api/v1/pods", token=token).status == 403
    assert control_plane.request("GET", "/api/v1/nodes", token=token).status == 403
    bind(control_plane, None, name, "ClusterRole", name, namespace)
    try:
        assert control_plane.request("GET", "/api/v1/pods", token=token).status == 200
        assert control_plane.request("GET", "/api/v1/nodes", token=token).status == 200
        assert control_plane.request("GET", "/api/v1/namespaces/default/pods",
                                     token=token).status == 200
    finally:
        control_plane.request("DELETE", f"{RBAC}/clusterrolebindings/{name}")
        control_plane.request("DELETE", f"{RBAC}/clusterroles/{name}")


def test_a_binding_to_a_missing_role_says_so(control_plane, namespace) -> None:
    token = service_account(control_plane, namespace)
    bind(control_plane, namespace, "dangling", "Role", "not-yet", namespace)
    reply = control_plane.request("GET", f"/api/v1/namespaces/{namespace}/pods", token=token)
    assert reply.status == 403
    assert reply.json()["message"].endswith(
        'in the namespace "' + namespace + '": RBAC: role.rbac.authorization.k8s.io '
        '"not-yet" not found')


def test_kubectl_auth_can_i_and_impersonation(control_plane, kubectl, namespace) -> None:
    token = service_account(control_plane, namespace)
    kubectl("-n", namespace, "create", "role", "evictor", "--verb=create",
            "--resource=pods/eviction")
    kubectl("-n", namespace, "create", "rolebinding", "evictor", "--role=evictor",
            f"--serviceaccount={namespace}:zkdrill")

    def can_i(*args: str) -> str:
        result = kubectl("--token", token, "-n", namespace, "auth", "can-i", *args, check=False)
        return result.stdout.strip()

    assert can_i("create", "pods", "--subresource=eviction") == "yes"
    assert can_i("delete", "pods") == "no"
    assert can_i("get", "/api") == "yes"
    as_sa = f"--as=system:serviceaccount:{namespace}:zkdrill"
    assert kubectl("-n", namespace, "auth", "can-i", "create", "pods",
                   "--subresource=eviction", as_sa).stdout.strip() == "yes"
    denied = kubectl("-n", namespace, "get", "pods", as_sa, check=False)
    assert "cannot list resource \"pods\"" in denied.stderr
    cannot = kubectl("--token", token, "get", "pods", "--as=someone", check=False)
    assert 'users "someone" is forbidden' in cannot.stderr


def test_kubectl_shows_rbac_objects(control_plane, kubectl, namespace) -> None:
    service_account(control_plane, namespace)
    kubectl("-n", namespace, "create", "role", "r", "--verb=get", "--resource=pods")
    kubectl("-n", namespace, "create", "rolebinding", "rb", "--role=r",
            f"--serviceaccount={namespace}:zkdrill", "--group=ops")
    rows = kubectl("-n", namespace, "get", "rolebindings", "-o", "wide").stdout.splitlines()
    assert rows[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert rows[1].split()[:2] == ["rb", "Role/r"]
    assert rows[1].split()[-2:] == ["ops", f"{namespace}/zkdrill"]
    assert kubectl("-n", namespace, "get", "roles").stdout.split()[:4] == [
        "NAME", "CREATED", "AT", "r"]
    accounts = kubectl("-n", namespace, "get", "sa").stdout.split()
    assert accounts[:3] == ["NAME", "SECRETS", "AGE"] and "zkdrill" in accounts
    bootstrap = kubectl("get", "clusterrolebindings", "system:discovery", "-o", "wide").stdout
    assert "ClusterRole/system:discovery" in bootstrap and "system:authenticated" in bootstrap


def test_roles_are_validated(control_plane, namespace) -> None:
    bad = control_plane.request("POST", f"{RBAC}/namespaces/{namespace}/roles", {
        "metadata": {"name": "bad"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]})
    assert (bad.status, bad.json()["message"]) == (
        422, 'Role.rbac.authorization.k8s.io "bad" is invalid: rules[0].verbs: Required value: '
             "verbs must contain at least one value")
    bind(control_plane, namespace, "rb", "Role", "r", namespace)
    path = f"{RBAC}/namespaces/{namespace}/rolebindings/rb"
    changed = control_plane.request("PATCH", path, {"roleRef": {"name": "other"}},
                                    headers={"Content-Type": "application/merge-patch+json"})
    assert changed.status == 422 and "cannot change roleRef" in changed.json()["message"]


def test_docs_rbac_yaml_applies_and_grants_what_a_drill_needs(control_plane, kubectl) -> None:
    ns = "zk-drills"
    if control_plane.request("GET", f"/api/v1/namespaces/{ns}").status == 404:
        kubectl("create", "namespace", ns)
    out = kubectl("apply", "-f", str(REPO / "docs" / "rbac.yaml")).stdout
    assert "role.rbac.authorization.k8s.io/zkdrill" in out
    assert "clusterrole.rbac.authorization.k8s.io/zkdrill-nodes" in out
    token = service_account(control_plane, ns, f"sa-{os.urandom(3).hex()}")
    sa = kubectl("-n", ns, "auth", "whoami", "--token", token, "-o",
                 "jsonpath={.status.userInfo.username}").stdout.rsplit(":", 1)[1]
    kubectl("-n", ns, "create", "rolebinding", f"zkdrill-{sa}", "--role=zkdrill",
            f"--serviceaccount={ns}:{sa}")
    kubectl("create", "clusterrolebinding", f"zkdrill-nodes-{sa}",
            "--clusterrole=zkdrill-nodes", f"--serviceaccount={ns}:{sa}")
    try:
        def can_i(*args: str) -> str:
            return kubectl("--token", token, "-n", ns, "auth", "can-i", *args,
                           check=False).stdout.strip()

        assert can_i("create", "pods", "--subresource=eviction") == "yes"
        assert can_i("get", "pods", "--subresource=exec") == "yes"
        assert can_i("patch", "statefulsets.apps") == "yes"
        assert can_i("patch", "nodes") == "yes"
        assert can_i("delete", "nodes") == "no"
        assert can_i("delete", "persistentvolumes") == "no"
    finally:
        kubectl("delete", "clusterrolebinding", f"zkdrill-nodes-{sa}", check=False)


def test_streaming_subresources_need_their_own_verbs(control_plane, namespace) -> None:
    """1.32: a WebSocket exec/port-forward (GET) needs `get`, the SPDY POST `create`."""
    token = service_account(control_plane, namespace)
    role(control_plane, namespace, "stream",
         {"apiGroups": [""], "resources": ["pods/exec", "pods/log"], "verbs": ["get"]})
    bind(control_plane, namespace, "stream", "Role", "stream", namespace)
    pod = f"/api/v1/namespaces/{namespace}/pods/zk-0"
    user = f"system:serviceaccount:{namespace}:zkdrill"
    assert control_plane.request("GET", f"{pod}/exec?command=ls", token=token).status == 404
    assert control_plane.request("GET", f"{pod}/log", token=token).status == 404
    spdy = control_plane.request("POST", f"{pod}/exec?command=ls", token=token)
    assert (spdy.status, spdy.json()["message"]) == (
        403, f'pods "zk-0" is forbidden: User "{user}" cannot create resource "pods/exec" '
             f'in API group "" in the namespace "{namespace}"')
    forward = control_plane.request("GET", f"{pod}/portforward?ports=2181", token=token)
    assert forward.status == 403 and '"pods/portforward"' in forward.json()["message"]


def test_kubectl_auth_can_i_list(control_plane, kubectl, namespace) -> None:
    token = service_account(control_plane, namespace)
    role(control_plane, namespace, "one-pod",
         {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["zk-0"]})
    bind(control_plane, namespace, "one-pod", "Role", "one-pod", namespace)
    rows = kubectl("--token", token, "-n", namespace, "auth", "can-i", "--list").stdout
    lines = [line.split() for line in rows.splitlines()]
    assert ["pods", "[]", "[zk-0]", "[get]"] in lines
    assert ["[/apis/*]", "[]", "[get]"] in lines
    bind(control_plane, namespace, "dangling", "Role", "missing", namespace)
    partial = kubectl("--token", token, "-n", namespace, "auth", "can-i", "--list")
    assert 'role.rbac.authorization.k8s.io "missing" not found' in partial.stderr


def test_every_namespace_gets_a_default_service_account(api, kubectl, namespace) -> None:
    from kubernetes import client, watch

    core = client.CoreV1Api(api)
    listed = core.list_namespaced_service_account(namespace,
                                                  field_selector="metadata.name=default")
    if not listed.items:  # the controller may not have run yet: wait for it on a watch
        for event in watch.Watch().stream(core.list_namespaced_service_account, namespace,
                                          field_selector="metadata.name=default",
                                          resource_version=listed.metadata.resource_version,
                                          timeout_seconds=10):
            if event["type"] == "ADDED":
                break
    token = kubectl("-n", namespace, "create", "token", "default").stdout.strip()
    assert f"system:serviceaccount:{namespace}:default" in kubectl(
        "--token", token, "auth", "whoami").stdout
