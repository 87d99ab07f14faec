"""The safety net: a handler that crashes answers a 500 `Status`, and the server keeps serving.

Runs the API server in-process over a real cluster whose store holds an object no registry
write would accept (committed to the store directly), so rendering it fails for real.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import aiohttp
import pytest

from localkube import resources as R
from localkube.apiserver.app import ApiServer, bind
from localkube.cluster import Cluster, ClusterConfig

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def test_a_crashing_handler_is_a_500_status(tmp_path: Path, caplog) -> None:
    async def scenario() -> None:
        cluster = Cluster(ClusterConfig(state_dir=tmp_path, nodes=1, run_kubelets=False))
        cluster.bootstrap()
        cluster.store.commit(R.PODS.key, {  # not something the registry would ever store
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "broken", "namespace": "default"},
            "spec": "nonsense", "status": ["nonsense"]})
        server = ApiServer(cluster, "tok", bind("127.0.0.1", 0), None)
        await server.start()
        server.set_ready()
        headers = {"Authorization": "Bearer tok", "Accept": TABLE}
        try:
            async with aiohttp.ClientSession(server.url, headers=headers) as http:
                async with http.get("/api/v1/namespaces/default/pods/broken") as resp:
                    body = await resp.json()
                    assert resp.status == 500
                    assert body["kind"] == "Status" and body["reason"] == "InternalError"
                    assert body["message"].startswith("Internal error occurred: ")
                async with http.get("/readyz") as resp:
                    assert await resp.text() == "ok"
                async with http.get("/api/v1/nodes") as resp:
                    assert resp.status == 200
        finally:
            await server.stop()
            await cluster.stop()

    with caplog.at_level(logging.ERROR, logger="localkube.apiserver"):
        asyncio.run(scenario())
    assert any("GET /api/v1/namespaces/default/pods/broken failed" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("path", ["/readyz"])
def test_not_ready_until_told(tmp_path: Path, path: str) -> None:
    async def scenario() -> None:
        cluster = Cluster(ClusterConfig(state_dir=tmp_path, nodes=1, run_kubelets=False))
        server = ApiServer(cluster, "tok", bind("127.0.0.1", 0), None)
        await server.start()
        try:
            async with aiohttp.ClientSession(server.url) as http:
                async with http.get(path) as resp:
                    assert resp.status == 500 and "readyz check failed" in await resp.text()
                server.set_ready()
                async with http.get(path) as resp:
                    assert (resp.status, await resp.text()) == (200, "ok")
        finally:
            await server.stop()

    asyncio.run(scenario())


def test_a_watch_that_fails_mid_stream_ends_with_an_error_event(tmp_path: Path) -> None:
    async def scenario() -> None:
        cluster = Cluster(ClusterConfig(state_dir=tmp_path, nodes=1, run_kubelets=False))
        cluster.bootstrap()
        server = ApiServer(cluster, "tok", bind("127.0.0.1", 0), None)
        await server.start()
        headers = {"Authorization": "Bearer tok", "Accept": TABLE}
        try:
            async with aiohttp.ClientSession(server.url, headers=headers) as http:
                path = "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=10"
                async with http.get(path) as resp:
                    assert resp.status == 200
                    cluster.store.commit(R.PODS.key, {  # unprintable, as above
                        "apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": "broken", "namespace": "default"},
                        "spec": "nonsense", "status": ["nonsense"]})
                    line = await resp.content.readline()
            event = json.loads(line)
            assert event["type"] == "ERROR" and event["object"]["code"] == 500
        finally:
            await server.stop()

    asyncio.run(scenario())
