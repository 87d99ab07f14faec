"""Hypothesis throws random and truncated bodies, odd content types and random paths at a
private localkube: every reply must be a success or a 4xx `Status`, never a 5xx or a
traceback, and the server must still be ready afterwards."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.localkube.conftest import start_control_plane, stop_control_plane

pytestmark = pytest.mark.slow

MANIFESTS = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
     "spec": {"containers": [{"name": "c", "image": "busybox",
                              "resources": {"requests": {"cpu": "0.5"}}}]}},
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"},
     "spec": {"serviceName": "s", "selector": {"matchLabels": {"a": "b"}},
              "template": {"metadata": {"labels": {"a": "b"}},
                           "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b"},
     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"a": "b"}}}},
    [{"op": "replace", "path": "/metadata/labels", "value": {"x": "y"}}],
]
COLLECTIONS = [
    "/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/pods",
    "/apis/apps/v1/namespaces/default/statefulsets",
    "/apis/policy/v1/namespaces/default/poddisruptionbudgets", "/api/v1/nodes",
    "/api/v1/namespaces", "/api/v1/pods", "/api/v1/namespaces/nope/services",
]
NAMES = ["cm", "p", "s", "b", "node-1", "default", "x"]
SUBRESOURCES = ["", "/status", "/scale", "/binding", "/eviction", "/bogus"]
CONTENT_TYPES = [
    "application/json", "application/yaml", "application/merge-patch+json",
    "application/json-patch+json", "application/strategic-merge-patch+json",
    "application/apply-patch+yaml", "application/vnd.kubernetes.protobuf", "text/plain", "",
    "application/json; charset=utf-8",
]
QUERIES = ["", "?dryRun=All", "?fieldManager=fuzz", "?fieldManager=fuzz&force=true",
           "?labelSelector=a%3Db", "?labelSelector=%21%21", "?fieldSelector=metadata.name%3Dx",
           "?fieldSelector=spec.bogus%3D1", "?limit=1", "?continue=zzz", "?gracePeriodSeconds=x",
           "?propagationPolicy=Sideways", "?includeObject=Object", "?resourceVersion=abc",
           "?dryRun=Some"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["metadata", "spec", "name", "kind", "apiVersion",
                                       "labels", "op", "path", "value", "data", "target",
                                       "$patch", "status", "replicas"]) | st.text(max_size=5),
                      children, max_size=4),
    max_leaves=20,
)


@st.composite
def mutated(draw) -> object:
    """A valid manifest with one subtree replaced by a random value (wrong types, nulls)."""
    doc = json.loads(json.dumps(draw(st.sampled_from(MANIFESTS))))
    node = doc
    while isinstance(node, dict | list) and node:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        if not isinstance(node[key], dict | list) or not node[key] or draw(st.booleans()):
            node[key] = draw(json_values)
            break
        node = node[key]
    return doc


@st.composite
def bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["manifest", "mutated", "mutated", "truncated", "random",
                                 "yaml", "bytes"]))
    if kind == "manifest":
        return json.dumps(draw(st.sampled_from(MANIFESTS))).encode()
    if kind == "mutated":
        return json.dumps(draw(mutated())).encode()
    if kind == "truncated":
        text = draw(st.sampled_from([json.dumps(m) for m in MANIFESTS]
                                    + [yaml.safe_dump(m) for m in MANIFESTS]))
        return text[: draw(st.integers(0, len(text)))].encode()
    if kind == "random":
        return json.dumps(draw(json_values)).encode()
    if kind == "yaml":
        return yaml.safe_dump(draw(json_values)).encode()
    return draw(st.binary(max_size=64))


@st.composite
def paths(draw) -> str:
    if draw(st.integers(0, 9)) == 0:
        segs = draw(st.lists(st.text("abcz09-._~%:", min_size=1, max_size=8), max_size=6))
        return "/" + "/".join(segs)
    base = draw(st.sampled_from(COLLECTIONS))
    if draw(st.booleans()):
        base += "/" + draw(st.sampled_from(NAMES)) + draw(st.sampled_from(SUBRESOURCES))
    return base + draw(st.sampled_from(QUERIES))


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    """A private control plane: fuzzing deletes nodes and namespaces other tests rely on."""
    cp = start_control_plane(tmp_path_factory.mktemp("fuzz"))
    yield cp
    assert stop_control_plane(cp) == 0, cp.log()


@settings(max_examples=int(os.environ.get("LOCALKUBE_FUZZ_EXAMPLES", "400")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
       path=paths(), body=bodies(), content_type=st.sampled_from(CONTENT_TYPES))
def test_random_requests_get_status_replies(fuzz_target, method, path, body,
                                            content_type) -> None:
    reply = fuzz_target.request(method, path, body if method != "GET" else None,
                                headers={"Content-Type": content_type} if content_type else {})
    if method == "HEAD":
        assert reply.status < 500, (method, path)
        return
    doc = json.loads(reply.body)
    # A 5xx is only acceptable where kube-apiserver itself answers one on purpose (strategic
    # merge patch inconsistencies, e.g. a missing merge key): never a crash, which the server
    # reports as reason InternalError.
    assert reply.status < 500 or doc.get("reason") != "InternalError", (
        method, path, body, content_type, reply.body)
    if reply.status >= 400:
        assert doc["kind"] == "Status" and doc["status"] == "Failure"
        assert doc["code"] == reply.status and doc["message"]
    else:
        assert isinstance(doc, dict) and doc.get("kind")


def test_server_survives_the_fuzzing(fuzz_target) -> None:
    """After the fuzz test (same module-scoped server): still ready, nothing crashed."""
    assert fuzz_target.request("GET", "/readyz", token="").body == b"ok"
    assert fuzz_target.request("GET", "/api/v1/namespaces/default").status in (200, 404)
    assert "Traceback" not in fuzz_target.log()
