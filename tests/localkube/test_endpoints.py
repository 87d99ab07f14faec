"""The endpoints controller with the tutorial's services (zk-hs headless, zk-cs ClusterIP).

Checks: ready pods are `addresses` (hostname only for the headless service the pods name as
subdomain), unready ones `notReadyAddresses`, and they move back and forth with readiness;
ports come from the service (named targetPorts resolved through the containers); the
headless label; no pods → no subsets; written only on change; gone with the service.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import endpoints, scheduler
from tests.localkube.drive import (
    NS,
    create_zk_pods,
    create_zk_set,
    finish_deletion,
    node_of,
    set_running,
    zk_objects,
)
from tests.localkube.kubesim import run, settle, wait_for


def controllers(cluster: Cluster) -> list:
    return scheduler.build(cluster) + endpoints.build(cluster)


def subsets(cluster: Cluster, name: str) -> list | None:
    ep = cluster.registry.try_get(R.ENDPOINTS, NS, name)
    return None if ep is None else ep.get("subsets", [])


def names(subset: dict, bucket: str) -> list[str]:
    return [a["targetRef"]["name"] for a in subset.get(bucket, [])]


async def ensemble(c: Cluster) -> None:
    for name in ("zk-hs", "zk-cs"):
        c.registry.create(R.SERVICES, NS, zk_objects()[name])
    sts = create_zk_set(c.registry)
    create_zk_pods(c.registry, sts, range(3))
    for i in range(3):
        await wait_for(c.store, partial(node_of, c.registry, f"zk-{i}"))
        set_running(c.registry, f"zk-{i}")


def test_ready_and_not_ready_addresses_follow_readiness(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        await ensemble(c)

        def all_ready(name: str) -> list | None:
            found = subsets(c, name)
            return found if found and len(found[0].get("addresses", [])) == 3 else None

        [headless] = await wait_for(c.store, lambda: all_ready("zk-hs"))
        ep = c.registry.get(R.ENDPOINTS, NS, "zk-hs")
        assert ep["metadata"]["labels"] == {"app": "zk", "service.kubernetes.io/headless": ""}
        zk0 = c.registry.get(R.PODS, NS, "zk-0")
        assert headless["addresses"][0] == {
            "ip": zk0["status"]["podIP"], "hostname": "zk-0", "nodeName": "node-1",
            "targetRef": {"kind": "Pod", "namespace": NS, "name": "zk-0",
                          "uid": zk0["metadata"]["uid"]}}
        assert headless["ports"] == [
            {"name": "leader-election", "port": 3888, "protocol": "TCP"},
            {"name": "server", "port": 2888, "protocol": "TCP"}]
        assert "notReadyAddresses" not in headless

        [client] = await wait_for(c.store, lambda: all_ready("zk-cs"))
        assert client["ports"] == [{"name": "client", "port": 2181, "protocol": "TCP"}]
        assert all("hostname" not in a for a in client["addresses"])
        assert "service.kubernetes.io/headless" not in (
            c.registry.get(R.ENDPOINTS, NS, "zk-cs")["metadata"]["labels"])

        set_running(c.registry, "zk-1", ready=False)

        def moved() -> dict | None:
            found = subsets(c, "zk-cs") or [{}]
            return found[0] if names(found[0], "notReadyAddresses") == ["zk-1"] else None

        subset = await wait_for(c.store, moved)
        assert names(subset, "addresses") == ["zk-0", "zk-2"]
        set_running(c.registry, "zk-1", ready=True)
        subset = await wait_for(c.store, lambda: all_ready("zk-cs"))
        assert names(subset[0], "addresses") == ["zk-0", "zk-1", "zk-2"]

        # Nothing changes for an unrelated pod update: no write.
        rv = c.registry.get(R.ENDPOINTS, NS, "zk-cs")["metadata"]["resourceVersion"]
        c.registry.patch(R.PODS, NS, "zk-2", "application/merge-patch+json",
                         {"metadata": {"annotations": {"touched": "yes"}}})
        await settle(c)
        assert c.registry.get(R.ENDPOINTS, NS, "zk-cs")["metadata"]["resourceVersion"] == rv

    run(tmp_path, scenario, controllers)


def test_named_target_port_and_pods_going_away(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        await ensemble(c)
        c.registry.create(R.SERVICES, NS, {"metadata": {"name": "zk-named"}, "spec": {
            "selector": {"app": "zk"},
            "ports": [{"name": "zk", "port": 80, "targetPort": "client"}]}})
        found = await wait_for(c.store, lambda: subsets(c, "zk-named"))
        assert found[0]["ports"] == [{"name": "zk", "port": 2181, "protocol": "TCP"}]

        for i in range(3):
            c.registry.delete(R.PODS, NS, f"zk-{i}")  # terminating pods leave at once
        assert await wait_for(c.store, lambda: subsets(c, "zk-named") == []) is True
        assert "subsets" not in c.registry.get(R.ENDPOINTS, NS, "zk-named")
        for i in range(3):
            finish_deletion(c.registry, f"zk-{i}")

        c.registry.delete(R.SERVICES, NS, "zk-named")
        await wait_for(c.store, lambda: c.registry.try_get(R.ENDPOINTS, NS, "zk-named") is None)

    run(tmp_path, scenario, controllers)


def test_service_without_selector_is_left_alone(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        c.registry.create(R.SERVICES, NS, {"metadata": {"name": "manual"},
                                           "spec": {"ports": [{"port": 80}]}})
        c.registry.create(R.ENDPOINTS, NS, {"metadata": {"name": "manual"}, "subsets": [
            {"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]})
        await settle(c)
        assert subsets(c, "manual") == [{"addresses": [{"ip": "10.0.0.1"}],
                                         "ports": [{"port": 80}]}]

    run(tmp_path, scenario, controllers)
