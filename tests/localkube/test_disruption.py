"""The disruption controller keeps PodDisruptionBudget status true (k8s-semantics §3.1).

Checks: the tutorial's 3/2/3/1; an unready pod spends the budget; expected pods follow the
StatefulSet's replicas; status is written only on change; a pod with a missing controller
fails safe (SyncFailed); minAvailable as an integer counts matched pods; `disruptedPods`
entries expire after two minutes with a NotDeleted event; NoPods/UnmanagedPods events.
"""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import disruption, scheduler
from localkube.registry.podutil import stamp
from tests.localkube.drive import (
    NS,
    create_zk_pods,
    create_zk_set,
    events,
    node_of,
    set_running,
    zk_objects,
)
from tests.localkube.kubesim import run, settle, wait_for


def controllers(cluster: Cluster) -> list:
    return scheduler.build(cluster) + disruption.build(cluster)


def counters(cluster: Cluster, name: str = "zk-pdb") -> tuple | None:
    """(currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed) once observed."""
    pdb = cluster.registry.try_get(R.PDBS, NS, name)
    status = (pdb or {}).get("status") or {}
    if not status.get("conditions"):
        return None
    return (status["currentHealthy"], status["desiredHealthy"], status["expectedPods"],
            status["disruptionsAllowed"])


async def wait_counters(cluster: Cluster, want: tuple, name: str = "zk-pdb") -> dict:
    await wait_for(cluster.store, lambda: counters(cluster, name) == want, what=f"{name} {want}")
    return cluster.registry.get(R.PDBS, NS, name)["status"]


async def ensemble(cluster: Cluster, ready: int = 3) -> dict:
    """The tutorial's StatefulSet pods, bound and Running; the first `ready` are Ready."""
    sts = create_zk_set(cluster.registry)
    create_zk_pods(cluster.registry, sts, range(3))
    for i in range(3):
        await wait_for(cluster.store, partial(node_of, cluster.registry, f"zk-{i}"))
        set_running(cluster.registry, f"zk-{i}", ready=i < ready)
    return sts


def test_tutorial_budget_is_3_2_3_1(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        await ensemble(c)
        c.registry.create(R.PDBS, NS, zk_objects()["zk-pdb"])
        status = await wait_counters(c, (3, 2, 3, 1))
        assert status["observedGeneration"] == 1
        assert "disruptedPods" not in status
        [cond] = status["conditions"]
        assert {k: v for k, v in cond.items() if k != "lastTransitionTime"} == {
            "type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods",
            "message": "", "observedGeneration": 1}

        # Writes happen only on change: an unrelated pod update leaves the PDB alone.
        rv = c.registry.get(R.PDBS, NS, "zk-pdb")["metadata"]["resourceVersion"]
        c.registry.patch(R.PODS, NS, "zk-0", "application/merge-patch+json",
                         {"metadata": {"annotations": {"touched": "yes"}}})
        await settle(c)
        assert c.registry.get(R.PDBS, NS, "zk-pdb")["metadata"]["resourceVersion"] == rv

        set_running(c.registry, "zk-2", ready=False)
        status = await wait_counters(c, (2, 2, 3, 0))
        assert status["conditions"][0]["status"] == "False"
        assert status["conditions"][0]["reason"] == "InsufficientPods"
        assert status["conditions"][0]["message"] == ""

    run(tmp_path, scenario, controllers)


def test_expected_pods_follow_the_statefulset_replicas(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        await ensemble(c)
        c.registry.create(R.PDBS, NS, zk_objects()["zk-pdb"])
        await wait_counters(c, (3, 2, 3, 1))
        c.registry.patch(R.STATEFULSETS, NS, "zk", "application/merge-patch+json",
                         {"spec": {"replicas": 5}})
        await wait_counters(c, (3, 4, 5, 0))

        pdb = c.registry.get(R.PDBS, NS, "zk-pdb")
        pdb["spec"]["maxUnavailable"] = "50%"  # 50% of 5 rounds up to 3
        c.registry.update(R.PDBS, NS, "zk-pdb", pdb)
        status = await wait_counters(c, (3, 2, 5, 1))
        assert status["observedGeneration"] == 2

    run(tmp_path, scenario, controllers)


def test_pod_with_missing_controller_fails_safe(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        await ensemble(c)
        c.registry.create(R.PDBS, NS, zk_objects()["zk-pdb"])
        await wait_counters(c, (3, 2, 3, 1))
        c.registry.create(R.PODS, NS, {"metadata": {
            "name": "stray", "labels": {"app": "zk"}, "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "gone",
                "uid": "0000", "controller": True}]},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}})

        def failed() -> dict | None:
            status = c.registry.get(R.PDBS, NS, "zk-pdb")["status"]
            return status if status["conditions"][0]["reason"] == "SyncFailed" else None

        status = await wait_for(c.store, failed)
        assert status["disruptionsAllowed"] == 0
        assert status["conditions"][0]["status"] == "False"
        assert status["conditions"][0]["message"] == 'found no controllers for pod "stray"'

        c.registry.delete(R.PODS, NS, "stray", {"gracePeriodSeconds": 0})
        await wait_counters(c, (3, 2, 3, 1))

    run(tmp_path, scenario, controllers)


def test_min_available_integer_counts_matched_pods(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        for i in range(2):
            c.registry.create(R.PODS, NS, {"metadata": {"name": f"web-{i}",
                                                        "labels": {"app": "web"}},
                                           "spec": {"containers": [{"name": "c",
                                                                    "image": "nginx"}]}})
            await wait_for(c.store, partial(node_of, c.registry, f"web-{i}"))
            set_running(c.registry, f"web-{i}")
        c.registry.create(R.PDBS, NS, {"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}}, "minAvailable": 1}})
        await wait_counters(c, (2, 1, 2, 1), "web")
        assert events(c.registry, "web", "UnmanagedPods") == []

        c.registry.create(R.PDBS, NS, {"metadata": {"name": "web-max"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}}, "maxUnavailable": 1}})
        await wait_counters(c, (2, 0, 0, 0), "web-max")
        [event] = events(c.registry, "web-max", "UnmanagedPods")
        assert event["type"] == "Warning"
        assert "were found to be unmanaged" in event["message"]

        c.registry.create(R.PDBS, NS, {"metadata": {"name": "nobody"}, "spec": {
            "selector": {"matchLabels": {"app": "none"}}, "maxUnavailable": 1}})
        await wait_counters(c, (0, 0, 0, 0), "nobody")
        [event] = events(c.registry, "nobody", "NoPods")
        assert (event["type"], event["message"]) == ("Normal", "No matching pods found")

    run(tmp_path, scenario, controllers)


def test_disrupted_pods_expire_after_two_minutes(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        base = c.registry.clock()
        offset = [0.0]
        c.registry.clock = lambda: base + offset[0]
        await ensemble(c)
        c.registry.create(R.PDBS, NS, zk_objects()["zk-pdb"])
        await wait_counters(c, (3, 2, 3, 1))

        # An eviction whose pod delete never happened: zk-0 is recorded but still running.
        pdb = c.registry.get(R.PDBS, NS, "zk-pdb")
        status = copy.deepcopy(pdb["status"])
        status["disruptedPods"] = {"zk-0": stamp(base)}
        status["disruptionsAllowed"] = 0
        c.registry.update(R.PDBS, NS, "zk-pdb", {**pdb, "status": status}, subresource="status")
        status = await wait_counters(c, (2, 2, 3, 0))
        assert status["disruptedPods"] == {"zk-0": stamp(base)}

        offset[0] = 121.0
        c.registry.patch(R.PODS, NS, "zk-1", "application/merge-patch+json",
                         {"metadata": {"annotations": {"tick": "1"}}})  # any relevant change
        status = await wait_counters(c, (3, 2, 3, 1))
        assert "disruptedPods" not in status
        [event] = events(c.registry, "zk-0", "NotDeleted")
        assert event["type"] == "Warning"
        assert event["message"] == ("Pod was expected by PDB default/zk-pdb to be deleted but it "
                                    "wasn't")

    run(tmp_path, scenario, controllers)
