"""The namespace controller: `kubectl delete namespace` empties the namespace, then removes it.

Checks: content of every namespaced kind is deleted (unbound pods at once, bound pods
gracefully), the deletion conditions report what remains, and the namespace disappears once
the last pod finishes terminating.
"""

from __future__ import annotations

from pathlib import Path

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import namespace
from tests.localkube.drive import finish_deletion
from tests.localkube.kubesim import run, wait_for

NS = "drill"


def pod(name: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def conditions(c: Cluster) -> dict[str, dict]:
    ns = c.registry.try_get(R.NAMESPACES, "", NS) or {}
    return {x["type"]: x for x in (ns.get("status") or {}).get("conditions") or []}


def test_namespace_deletion_empties_and_removes_it(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        c.registry.create(R.NAMESPACES, "", {"metadata": {"name": NS}})
        c.registry.create(R.PODS, NS, pod("running"))
        c.registry.bind_pod(NS, "running", "node-1")
        c.registry.create(R.PODS, NS, pod("pending"))
        c.registry.create(R.CONFIGMAPS, NS, {"metadata": {"name": "cfg"}, "data": {"a": "b"}})
        c.registry.create(R.SERVICES, NS, {"metadata": {"name": "svc"},
                                           "spec": {"ports": [{"port": 80}]}})
        c.registry.create(R.PVCS, NS, {"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})

        c.registry.delete(R.NAMESPACES, "", NS)
        remaining = await wait_for(c.store, lambda: conditions(c).get(
            "NamespaceContentRemaining", {}).get("status") == "True" and conditions(c))
        assert remaining["NamespaceContentRemaining"]["message"] == (
            "Some resources are remaining: pods. has 1 resource instances")
        assert remaining["NamespaceContentRemaining"]["reason"] == "SomeResourcesRemain"
        assert remaining["NamespaceDeletionDiscoveryFailure"]["status"] == "False"
        assert c.registry.get(R.NAMESPACES, "", NS)["status"]["phase"] == "Terminating"
        for res in (R.CONFIGMAPS, R.SERVICES, R.PVCS):
            assert c.registry.list(res, NS)[0] == []
        [left] = c.registry.list(R.PODS, NS)[0]
        assert left["metadata"]["name"] == "running"
        assert left["metadata"]["deletionGracePeriodSeconds"] == 30

        finish_deletion(c.registry, "running", NS)
        await wait_for(c.store, lambda: c.registry.try_get(R.NAMESPACES, "", NS) is None)

    run(tmp_path, scenario, namespace.build)
