"""A streamed body ends exactly at its chunked terminator: the connection then serves the
next request (a PATCH, which no client retries) with nothing stray in between.

Guards the server side of the stray-CRLF investigation (the bug was the harness pooling a
half-read connection; see tests/harness/test_kube_streams.py).
"""

from __future__ import annotations

import http.client
import json
import ssl
from urllib.parse import urlsplit

import pytest

from tests.localkube.conftest import ControlPlane

pytestmark = pytest.mark.slow


def connection(cp: ControlPlane) -> http.client.HTTPSConnection:
    parts = urlsplit(cp.url)
    context = ssl.create_default_context(cafile=str(cp.ca_file))
    return http.client.HTTPSConnection(parts.hostname or "", parts.port, context=context,
                                       timeout=10)


def send(conn: http.client.HTTPSConnection, cp: ControlPlane, method: str, path: str,
         body: dict | None = None, content_type: str = "application/json") -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {cp.token}"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), content_type
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def patch_after(cp: ControlPlane, namespace: str, stream_path: str) -> list[dict]:
    """Read a whole watch, then PATCH on the same connection; returns the watch events."""
    conn = connection(cp)
    cm = f"/api/v1/namespaces/{namespace}/configmaps"
    try:
        status, _ = send(conn, cp, "POST", cm, {"metadata": {"name": "c"}})
        assert status == 201
        status, body = send(conn, cp, "GET", stream_path)
        assert status == 200
        events = [json.loads(line) for line in body.splitlines() if line.strip()]
        sock = conn.sock
        status, body = send(conn, cp, "PATCH", f"{cm}/c", {"data": {"a": "1"}},
                            "application/merge-patch+json")
        assert (status, json.loads(body)["data"]) == (200, {"a": "1"})
        assert conn.sock is sock  # the same connection served it
        return events
    finally:
        conn.close()


def test_a_watch_ended_by_its_timeout(control_plane, namespace) -> None:
    path = (f"/api/v1/namespaces/{namespace}/configmaps?watch=true&timeoutSeconds=1"
            "&resourceVersion=0")
    events = patch_after(control_plane, namespace, path)
    assert [e["type"] for e in events] == ["ADDED"]


def test_a_watch_answered_410(make_control_plane) -> None:
    cp = make_control_plane("--watch-history", "2")
    conn = connection(cp)
    try:
        send(conn, cp, "POST", "/api/v1/namespaces", {"metadata": {"name": "w"}})
    finally:
        conn.close()
    path = "/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=1"
    events = patch_after(cp, "w", path)
    assert [(e["type"], e["object"]["code"]) for e in events] == [("ERROR", 410)]
