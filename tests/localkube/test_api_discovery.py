"""Discovery, /version, OpenAPI and authentication, as kubectl and the Python client see them."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

pytestmark = pytest.mark.slow


def test_version_through_the_python_client(api) -> None:
    info = client.VersionApi(api).get_code()
    assert (info.major, info.minor, info.git_version) == ("1", "32", "v1.32.0")
    assert info.platform.startswith("linux/")


def test_core_discovery_lists_subresources_kubectl_needs(control_plane) -> None:
    doc = control_plane.request("GET", "/api/v1").json()
    assert doc["kind"] == "APIResourceList" and doc["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["namespaced"]
    assert "all" in by_name["pods"]["categories"]
    eviction = by_name["pods/eviction"]  # drain uses eviction only when this is listed
    assert (eviction["group"], eviction["version"], eviction["kind"], eviction["verbs"]) == (
        "policy", "v1", "Eviction", ["create"])
    assert by_name["pods/binding"]["kind"] == "Binding"
    assert {"pods/log", "pods/exec", "pods/portforward", "pods/status"} <= set(by_name)
    assert not by_name["nodes"]["namespaced"]


def test_group_discovery(control_plane) -> None:
    api = control_plane.request("GET", "/api").json()
    assert api["versions"] == ["v1"]
    assert api["serverAddressByClientCIDRs"][0]["serverAddress"].startswith("127.0.0.1:")
    groups = {g["name"]: g for g in control_plane.request("GET", "/apis").json()["groups"]}
    assert {"apps", "policy", "storage.k8s.io"} <= set(groups)
    assert groups["apps"]["preferredVersion"]["groupVersion"] == "apps/v1"
    apps = control_plane.request("GET", "/apis/apps/v1").json()
    scale = next(r for r in apps["resources"] if r["name"] == "statefulsets/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    sts = next(r for r in apps["resources"] if r["name"] == "statefulsets")
    assert sts["shortNames"] == ["sts"]
    assert control_plane.request("GET", "/apis/apps").json()["kind"] == "APIGroup"
    assert control_plane.request("GET", "/apis/nope/v1").status == 404


def test_kubectl_api_resources(kubectl) -> None:
    out = kubectl("api-resources").stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert lines["statefulsets"][1:] == ["sts", "apps/v1", "true", "StatefulSet"]
    assert lines["poddisruptionbudgets"][1:] == ["pdb", "policy/v1", "true",
                                                 "PodDisruptionBudget"]
    assert lines["nodes"][1:] == ["no", "v1", "false", "Node"]


def test_openapi_v3_marks_field_validation_support(control_plane) -> None:
    index = control_plane.request("GET", "/openapi/v3").json()
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert "?hash=" in url
    doc = control_plane.request("GET", url).json()
    patches = [item["patch"] for item in doc["paths"].values() if "patch" in item]
    sts = next(p for p in patches
               if p["x-kubernetes-group-version-kind"]["kind"] == "StatefulSet")
    assert {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}} in sts[
        "parameters"]
    assert control_plane.request("GET", "/openapi/v2").status == 404


@pytest.mark.parametrize("path", ["/readyz", "/livez", "/healthz", "/version"])
def test_public_endpoints_need_no_token(control_plane, path) -> None:
    assert control_plane.request("GET", path, token="").status == 200


@pytest.mark.parametrize("token", ["", "wrong"])
@pytest.mark.parametrize("path", ["/api", "/api/v1/pods", "/openapi/v3", "/metrics"])
def test_everything_else_needs_the_token(control_plane, path, token) -> None:
    reply = control_plane.request("GET", path, token=token)
    assert reply.status == 401
    assert reply.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": "Unauthorized",
                            "reason": "Unauthorized", "code": 401}


def test_python_client_with_a_bad_token_gets_401(control_plane) -> None:
    cfg = client.Configuration()
    cfg.host = control_plane.url
    cfg.ssl_ca_cert = str(control_plane.ca_file)
    cfg.api_key = {"authorization": "Bearer nope"}
    with client.ApiClient(cfg) as bad, pytest.raises(client.ApiException) as err:
        client.CoreV1Api(bad).list_namespace()
    assert err.value.status == 401
    assert json.loads(err.value.body)["reason"] == "Unauthorized"


def test_unknown_paths_are_404_status(control_plane) -> None:
    for path in ("/api/v1/widgets", "/apis/apps/v1/namespaces/default/deployments",
                 "/api/v2/pods", "/nothing", "/api/v1/namespaces/default/pods/x/attach",
                 "/api/v1/nodes/node-1/a/b"):
        reply = control_plane.request("GET", path)
        assert reply.status == 404, path
        assert reply.json()["message"] == "the server could not find the requested resource"
