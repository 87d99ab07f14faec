"""Watch streams through the Python client's `watch.Watch` and raw HTTP."""

from __future__ import annotations

import json
import time

import pytest
import urllib3
from kubernetes import client, watch

from tests.localkube.conftest import pod_manifest

pytestmark = pytest.mark.slow


@pytest.fixture
def core(api) -> client.CoreV1Api:
    return client.CoreV1Api(api)


def events(stream, count: int) -> list[tuple[str, str]]:
    out = []
    for ev in stream:
        out.append((ev["type"], ev["raw_object"]["metadata"].get("name", "")))
        if len(out) == count:
            break
    return out


def test_added_modified_deleted(core, namespace) -> None:
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    core.patch_namespaced_config_map("cm", namespace, {"data": {"a": "1"}})
    core.delete_namespaced_config_map("cm", namespace)
    w = watch.Watch()
    stream = w.stream(core.list_namespaced_config_map, namespace, resource_version=rv,
                      timeout_seconds=10)
    got = []
    for ev in stream:
        got.append((ev["type"], ev["object"].metadata.name, ev["object"].kind))
        if len(got) == 3:
            w.stop()
    assert got == [("ADDED", "cm", "ConfigMap"), ("MODIFIED", "cm", "ConfigMap"),
                   ("DELETED", "cm", "ConfigMap")]


def test_without_resource_version_starts_with_current_objects(core, namespace) -> None:
    for name in ("a", "b"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    w = watch.Watch()
    got = events(w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=10), 2)
    w.stop()
    assert got == [("ADDED", "a"), ("ADDED", "b")]


def test_resume_from_resource_version(core, namespace) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "old"}})
    rv = core.read_namespaced_config_map("old", namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "new"}})
    w = watch.Watch()
    got = events(w.stream(core.list_namespaced_config_map, namespace, resource_version=rv,
                          timeout_seconds=10), 1)
    w.stop()
    assert got == [("ADDED", "new")]


def test_live_events_arrive_while_streaming(control_plane, core, namespace) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps?watch=1&timeoutSeconds=10"
    resp = control_plane.pool.request("GET", control_plane.url + path, preload_content=False,
                                      headers={"Authorization": f"Bearer {control_plane.token}"})
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "live"}})
    line = _read_line(resp)
    assert json.loads(line)["type"] == "ADDED"
    resp.close()


def test_label_and_field_selectors_filter_and_translate(core, namespace) -> None:
    rv = core.list_namespaced_pod(namespace).metadata.resource_version
    core.create_namespaced_pod(namespace, pod_manifest("p", {"app": "zk"}, scheduler="none"))
    core.create_namespaced_pod(namespace, pod_manifest("q", {"app": "web"}, scheduler="none"))
    core.patch_namespaced_pod("p", namespace, {"metadata": {"labels": {"app": "gone"}}})
    core.patch_namespaced_pod("p", namespace, {"metadata": {"labels": {"app": "zk"}}})
    w = watch.Watch()
    got = events(w.stream(core.list_namespaced_pod, namespace, resource_version=rv,
                          label_selector="app=zk", timeout_seconds=10), 3)
    w.stop()
    # leaving the selector reads as DELETED, re-entering as ADDED (the cacher's rule)
    assert got == [("ADDED", "p"), ("DELETED", "p"), ("ADDED", "p")]
    w = watch.Watch()
    got = events(w.stream(core.list_namespaced_pod, namespace, resource_version=rv,
                          field_selector="metadata.name=q", timeout_seconds=10), 1)
    w.stop()
    assert got == [("ADDED", "q")]


def test_bookmarks_only_when_allowed(control_plane, core, namespace) -> None:
    # The watch cache sends a bookmark 2 s before the deadline; with timeoutSeconds=3 it
    # comes about one second in.
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    base = f"/api/v1/namespaces/{namespace}/configmaps?watch=true&resourceVersion={rv}"
    resp = control_plane.pool.request(
        "GET", control_plane.url + base + "&allowWatchBookmarks=True&timeoutSeconds=3",
        preload_content=False, headers={"Authorization": f"Bearer {control_plane.token}"})
    event = json.loads(_read_line(resp))
    resp.close()
    assert event["type"] == "BOOKMARK"
    assert event["object"]["kind"] == "ConfigMap"
    assert int(event["object"]["metadata"]["resourceVersion"]) >= int(rv)
    plain = control_plane.request("GET", base + "&timeoutSeconds=3")  # runs to the deadline
    assert plain.status == 200 and plain.body == b""


def test_too_old_resource_version_is_an_error_event(make_control_plane) -> None:
    cp = make_control_plane("--watch-history", "5")
    for i in range(10):
        assert cp.request("POST", "/api/v1/namespaces/default/configmaps",
                          {"metadata": {"name": f"cm{i}"}}).status == 201
    reply = cp.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2")
    assert reply.status == 200
    lines = reply.body.decode().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith("too old resource version: 2 (")
    # the Python client retries once from its RV, then raises 410
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(cp.kubeconfig))
    w = watch.Watch()
    with pytest.raises(client.ApiException) as err:
        for _ in w.stream(client.CoreV1Api(api).list_namespaced_config_map, "default",
                          resource_version="2"):
            pass
    assert err.value.status == 410
    api.close()


def test_watchers_are_released_when_clients_hang_up(control_plane, namespace) -> None:
    def registered() -> int:
        text = control_plane.request("GET", "/metrics").body.decode()
        line = next(x for x in text.splitlines()
                    if x.startswith('apiserver_registered_watchers{group="",kind="ConfigMap"'))
        return int(line.rsplit(" ", 1)[1])

    before = registered()
    pool = urllib3.PoolManager(ca_certs=str(control_plane.ca_file))
    resp = pool.request("GET", control_plane.url + f"/api/v1/namespaces/{namespace}/configmaps"
                        "?watch=1", preload_content=False,
                        headers={"Authorization": f"Bearer {control_plane.token}"})
    assert resp.status == 200
    assert registered() == before + 1
    resp.close()  # hang up mid-stream
    pool.clear()
    deadline = time.monotonic() + 10
    while registered() != before:
        assert time.monotonic() < deadline, "watcher not released after the client hung up"
        time.sleep(0.02)


def test_watch_single_object_by_name_path(control_plane, core, namespace) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "one"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "two"}})
    reply = control_plane.request(
        "GET", f"/api/v1/watch/namespaces/{namespace}/configmaps/two?timeoutSeconds=1")
    names = [json.loads(x)["object"]["metadata"]["name"] for x in reply.body.splitlines()]
    assert names == ["two"]


def test_table_watch_events_are_one_row_tables(control_plane, core, namespace) -> None:
    core.create_namespaced_pod(namespace, pod_manifest("p", scheduler="none"))
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    reply = control_plane.request(
        "GET", f"/api/v1/namespaces/{namespace}/pods?watch=1&timeoutSeconds=1",
        headers={"Accept": accept})
    event = json.loads(reply.body.splitlines()[0])
    table = event["object"]
    assert event["type"] == "ADDED" and table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name", "Ready", "Status", "Restarts", "Age"]
    assert len(table["rows"]) == 1 and table["rows"][0]["cells"][0] == "p"
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def _read_line(resp) -> bytes:
    buf = b""
    while b"\n" not in buf:
        chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(1)
        assert chunk, "stream ended before a full line"
        buf += chunk
    return buf.split(b"\n", 1)[0]
