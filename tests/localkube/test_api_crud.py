"""CRUD through the official Python client, and the error replies clients key off."""

from __future__ import annotations

import json

import pytest
import yaml
from kubernetes import client

from tests.localkube.conftest import pod_manifest

pytestmark = pytest.mark.slow


@pytest.fixture
def core(api) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api) -> client.AppsV1Api:
    return client.AppsV1Api(api)


def sts_manifest(name: str, replicas: int = 3) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
        "spec": {
            "replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        },
    }


def test_create_get_list_replace_delete(core, namespace) -> None:
    created = core.create_namespaced_config_map(namespace, {
        "metadata": {"name": "cm", "labels": {"k": "v"}}, "data": {"a": "1"}})
    assert created.metadata.uid and created.metadata.resource_version
    got = core.read_namespaced_config_map("cm", namespace)
    assert got.data == {"a": "1"} and got.metadata.uid == created.metadata.uid
    listed = core.list_namespaced_config_map(namespace)
    assert [c.metadata.name for c in listed.items] == ["cm"]
    assert int(listed.metadata.resource_version) >= int(created.metadata.resource_version)
    got.data["b"] = "2"
    replaced = core.replace_namespaced_config_map("cm", namespace, got)
    assert replaced.data == {"a": "1", "b": "2"}
    assert int(replaced.metadata.resource_version) > int(got.metadata.resource_version)
    status = core.delete_namespaced_config_map("cm", namespace)  # the client returns a dict
    assert status["status"] == "Success" and status["details"]["name"] == "cm"
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_config_map("cm", namespace)
    assert err.value.status == 404
    assert json.loads(err.value.body)["message"] == 'configmaps "cm" not found'


def test_list_is_never_null_and_cluster_wide_lists_work(core, namespace) -> None:
    body = json.loads(core.list_namespaced_pod(namespace, _preload_content=False).data)
    assert body["kind"] == "PodList" and body["apiVersion"] == "v1" and body["items"] == []
    core.create_namespaced_pod(namespace, pod_manifest("p1"))
    everywhere = core.list_pod_for_all_namespaces(field_selector=f"metadata.namespace={namespace}")
    assert [p.metadata.name for p in everywhere.items] == ["p1"]


def test_four_patch_types(apps, namespace) -> None:
    apps.create_namespaced_stateful_set(namespace, sts_manifest("web"))
    # strategic merge (the client's default for a dict body): containers merge by name
    smp = apps.patch_namespaced_stateful_set("web", namespace, {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "busybox:2"}]}}}})
    assert smp.spec.template.spec.containers[0].image == "busybox:2"
    # JSON patch (a list body), the tutorial's CPU change; quantities come back canonical
    jp = apps.patch_namespaced_stateful_set("web", namespace, [{
        "op": "add", "path": "/spec/template/spec/containers/0/resources",
        "value": {"requests": {"cpu": "0.3"}}}])
    assert jp.spec.template.spec.containers[0].resources.requests == {"cpu": "300m"}
    # merge patch: lists replaced, null deletes
    mp = apps.patch_namespaced_stateful_set(
        "web", namespace, {"metadata": {"labels": {"x": "y"}}, "spec": {"replicas": 1}},
        _content_type="application/merge-patch+json")
    assert mp.metadata.labels == {"x": "y"} and mp.spec.replicas == 1
    assert mp.metadata.generation == 4  # three spec changes after creation
    # server-side apply needs a field manager; creates when absent (201)
    applied = apps.patch_namespaced_stateful_set(
        "web", namespace, {"apiVersion": "apps/v1", "kind": "StatefulSet",
                           "metadata": {"name": "web", "labels": {"x": "z"}}},
        field_manager="test", _content_type="application/apply-patch+yaml")
    assert applied.metadata.labels["x"] == "z"
    new = apps.patch_namespaced_stateful_set(
        "fresh", namespace, sts_manifest("fresh"), field_manager="test",
        _content_type="application/apply-patch+yaml")
    assert new.metadata.name == "fresh" and new.metadata.generation == 1


def test_apply_without_field_manager_is_rejected(control_plane, namespace) -> None:
    reply = control_plane.request(
        "PATCH", f"/apis/apps/v1/namespaces/{namespace}/statefulsets/x",
        json.dumps(sts_manifest("x")), headers={"Content-Type": "application/apply-patch+yaml"})
    assert reply.status == 422
    body = reply.json()
    assert body["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                               "Required value: is required for apply patch")


def test_unsupported_patch_type_is_415(control_plane, namespace) -> None:
    reply = control_plane.request("PATCH", f"/api/v1/namespaces/{namespace}/pods/x", "{}",
                                  headers={"Content-Type": "text/plain"})
    assert reply.status == 415 and reply.json()["reason"] == "UnsupportedMediaType"


def test_stale_resource_version_conflicts(core, namespace) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    first = core.read_namespaced_config_map("cm", namespace)
    core.replace_namespaced_config_map("cm", namespace, first)  # unchanged: same RV
    first.data = {"a": "1"}
    core.replace_namespaced_config_map("cm", namespace, first)
    first.data = {"a": "2"}
    with pytest.raises(client.ApiException) as err:
        core.replace_namespaced_config_map("cm", namespace, first)
    assert err.value.status == 409
    body = json.loads(err.value.body)
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
        "please apply your changes to the latest version and try again")


def test_already_exists_is_409(core, namespace) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    assert err.value.status == 409 and json.loads(err.value.body)["reason"] == "AlreadyExists"


def test_invalid_object_is_422_with_causes(core, namespace) -> None:
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "Bad_Name"}})
    body = json.loads(err.value.body)
    assert err.value.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["kind"] == "ConfigMap"
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_missing_namespace_is_404(core) -> None:
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "cm"}})
    assert err.value.status == 404
    assert json.loads(err.value.body)["message"] == 'namespaces "no-such-ns" not found'


@pytest.mark.parametrize("body", [b"{", b"[1,", b"\xff\xfe", b"null", b"[]", b'"x"', b""])
def test_malformed_bodies_are_400(control_plane, namespace, body) -> None:
    reply = control_plane.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", body,
                                  headers={"Content-Type": "application/json"})
    assert reply.status == 400, reply.body
    assert reply.json()["kind"] == "Status" and reply.json()["reason"] == "BadRequest"


def test_yaml_bodies_are_accepted(control_plane, namespace) -> None:
    doc = yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "from-yaml"}, "data": {"k": "v"}})
    reply = control_plane.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", doc,
                                  headers={"Content-Type": "application/yaml"})
    assert reply.status == 201 and reply.json()["data"] == {"k": "v"}
    got = control_plane.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/from-yaml",
                                headers={"Accept": "application/yaml"})
    assert yaml.safe_load(got.body)["metadata"]["name"] == "from-yaml"


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/v1/namespaces/default/configmaps"),
    ("POST", "/api/v1/namespaces/default/configmaps/x"),
    ("POST", "/api/v1/pods"),
    ("DELETE", "/api/v1/namespaces/default/pods/x/status"),
    ("GET", "/api/v1/namespaces/default/pods/x/eviction"),
    ("POST", "/api"),
])
def test_wrong_method_is_405(control_plane, method, path) -> None:
    reply = control_plane.request(method, path, b"{}")
    assert reply.status == 405 and reply.json()["reason"] == "MethodNotAllowed"


def test_dry_run_changes_nothing(core, namespace) -> None:
    made = core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}},
                                             dry_run="All")
    assert made.metadata.name == "cm"
    assert core.list_namespaced_config_map(namespace).items == []


def test_delete_options_in_query_and_body(core, namespace) -> None:
    core.create_namespaced_pod(namespace, pod_manifest("p", node="node-1"))
    # grace period from the body: the pod (scheduled) lingers with a deletionTimestamp
    pod = core.delete_namespaced_pod("p", namespace, body=client.V1DeleteOptions(
        grace_period_seconds=30))
    assert pod.metadata.deletion_timestamp and pod.metadata.deletion_grace_period_seconds == 30
    # and from the query string: grace 0 removes it now
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)
    assert core.list_namespaced_pod(namespace).items == []


def test_delete_collection_by_label(core, namespace) -> None:
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name,
                                                                   "labels": {"tier": tier}}})
    # The apiserver answers with the list of deleted objects (the client's model says Status).
    reply = core.delete_collection_namespaced_config_map(namespace, label_selector="tier=x",
                                                          _preload_content=False)
    gone = json.loads(reply.data)
    assert gone["kind"] == "ConfigMapList"
    assert sorted(i["metadata"]["name"] for i in gone["items"]) == ["a", "b"]
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["c"]


def test_selectors_on_list(core, namespace) -> None:
    core.create_namespaced_pod(namespace, pod_manifest("a", {"app": "zk"}, node="node-1"))
    core.create_namespaced_pod(namespace, pod_manifest("b", {"app": "web"}, node="node-2"))
    names = lambda pods: [p.metadata.name for p in pods.items]  # noqa: E731
    assert names(core.list_namespaced_pod(namespace, label_selector="app in (zk)")) == ["a"]
    assert names(core.list_namespaced_pod(namespace, label_selector="app!=zk")) == ["b"]
    assert names(core.list_namespaced_pod(namespace, field_selector="spec.nodeName=node-2")) == [
        "b"]
    with pytest.raises(client.ApiException) as err:
        core.list_namespaced_pod(namespace, field_selector="spec.bogus=1")
    assert err.value.status == 400


def test_limit_and_continue(core, namespace) -> None:
    for i in range(5):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm{i}"}})
    first = core.list_namespaced_config_map(namespace, limit=2)
    assert [c.metadata.name for c in first.items] == ["cm0", "cm1"]
    assert first.metadata.remaining_item_count == 3
    rest = core.list_namespaced_config_map(namespace, limit=10, _continue=first.metadata._continue)
    assert [c.metadata.name for c in rest.items] == ["cm2", "cm3", "cm4"]
    assert rest.metadata._continue is None


def test_status_subresource_splits_spec_and_status(apps, namespace) -> None:
    apps.create_namespaced_stateful_set(namespace, sts_manifest("web"))
    sts = apps.read_namespaced_stateful_set_status("web", namespace)
    sts.status.replicas = 7
    sts.spec.replicas = 9  # ignored by a status write
    out = apps.replace_namespaced_stateful_set_status("web", namespace, sts)
    assert (out.status.replicas, out.spec.replicas) == (7, 3)
    patched = apps.patch_namespaced_stateful_set_status("web", namespace,
                                                        {"status": {"readyReplicas": 2}})
    assert patched.status.ready_replicas == 2 and patched.metadata.generation == 1


def test_scale_subresource(apps, namespace) -> None:
    apps.create_namespaced_stateful_set(namespace, sts_manifest("web"))
    scale = apps.read_namespaced_stateful_set_scale("web", namespace)
    assert (scale.kind, scale.api_version, scale.spec.replicas) == ("Scale", "autoscaling/v1", 3)
    assert scale.status.selector == "app=web"
    scale.spec.replicas = 5
    assert apps.replace_namespaced_stateful_set_scale("web", namespace, scale).spec.replicas == 5
    patched = apps.patch_namespaced_stateful_set_scale("web", namespace, {"spec": {"replicas": 2}})
    assert patched.spec.replicas == 2
    assert apps.read_namespaced_stateful_set("web", namespace).spec.replicas == 2
    scale = apps.read_namespaced_stateful_set_scale("web", namespace)
    scale.spec.replicas = -1
    with pytest.raises(client.ApiException) as err:
        apps.replace_namespaced_stateful_set_scale("web", namespace, scale)
    assert err.value.status == 422


def test_binding_assigns_the_node_once(core, namespace) -> None:
    core.create_namespaced_pod(namespace, pod_manifest("p", scheduler="none"))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node-3"}}
    raw = core.create_namespaced_pod_binding("p", namespace, binding, _preload_content=False)
    assert raw.status == 201
    assert json.loads(raw.data) == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                    "status": "Success", "code": 201}
    pod = core.read_namespaced_pod("p", namespace)
    assert pod.spec.node_name == "node-3"
    assert any(c.type == "PodScheduled" and c.status == "True" for c in pod.status.conditions)
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_pod_binding("p", namespace, binding)
    assert err.value.status == 409


def test_eviction_without_budget_deletes(core, namespace) -> None:
    # Pending and unscheduled: evicted without budget checks, and deleted at once (no node)
    core.create_namespaced_pod(namespace, pod_manifest("p", scheduler="none"))
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": "p", "namespace": namespace}}
    raw = core.create_namespaced_pod_eviction("p", namespace, eviction, _preload_content=False)
    assert raw.status == 201 and "Retry-After" not in raw.headers
    assert core.list_namespaced_pod(namespace).items == []


def test_streaming_subresources_answer_a_status(control_plane, core, namespace) -> None:
    core.create_namespaced_pod(namespace, pod_manifest("p"))
    reply = control_plane.request("GET", f"/api/v1/namespaces/{namespace}/pods/p/log")
    assert reply.headers.get("Content-Type", "").startswith(("application/json", "text/plain"))
    if reply.headers["Content-Type"].startswith("application/json"):
        assert reply.json()["kind"] == "Status" and reply.status >= 400


def test_metrics_count_watchers(control_plane) -> None:
    text = control_plane.request("GET", "/metrics").body.decode()
    assert 'apiserver_registered_watchers{group="",kind="Pod",version="v1"}' in text
