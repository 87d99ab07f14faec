"""The eviction subresource (`evict`) with the disruption controller (k8s-semantics §3.2).

Checks: the tutorial's budget allows one eviction, then answers 429 with the exact body and
no retryAfterSeconds until the evicted server is back; Pending pods bypass the budget; the
body/lookup errors (400, 404, 500 for two budgets, 429 "still being processed" with
retryAfterSeconds 10); the unhealthy-pod policies; dryRun and deleteOptions pass-through;
and the tutorial's drain end to end with every control-plane controller.
"""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path

import pytest

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.cluster import Cluster
from localkube.controllers import build_controllers, disruption, scheduler
from localkube.registry.eviction import evict
from localkube.registry.podutil import condition
from tests.localkube.drive import (
    NS,
    KubeletStub,
    cordon,
    create_zk_pods,
    create_zk_set,
    finish_deletion,
    node_of,
    set_running,
    zk_objects,
    zk_pod,
)
from tests.localkube.kubesim import run, wait_for
from tests.localkube.test_disruption import wait_counters
from tests.localkube.test_scheduler import DRAIN_MESSAGE

SUCCESS = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
           "code": 201}
BLOCKED = {
    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
    "message": "Cannot evict pod as it would violate the pod's disruption budget.",
    "reason": "TooManyRequests",
    "details": {"causes": [{"reason": "DisruptionBudget",
                            "message": "The disruption budget zk-pdb needs 2 healthy pods and "
                                       "has 2 currently"}]},
    "code": 429,
}


def eviction(name: str, version: str = "policy/v1", **options: object) -> dict:
    body: dict = {"apiVersion": version, "kind": "Eviction",
                  "metadata": {"name": name, "namespace": NS}}
    if options:
        body["deleteOptions"] = options
    return body


def with_controllers(cluster: Cluster) -> list:
    return scheduler.build(cluster) + disruption.build(cluster)


async def tutorial(cluster: Cluster, ready: int = 3) -> dict:
    sts = create_zk_set(cluster.registry)
    create_zk_pods(cluster.registry, sts, range(3))
    for i in range(3):
        await wait_for(cluster.store, partial(node_of, cluster.registry, f"zk-{i}"))
        set_running(cluster.registry, f"zk-{i}", ready=i < ready)
    cluster.registry.create(R.PDBS, NS, zk_objects()["zk-pdb"])
    return sts


def test_budget_allows_one_eviction_then_429_until_the_pod_is_back(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        sts = await tutorial(c)
        await wait_counters(c, (3, 2, 3, 1))

        assert evict(c.registry, NS, "zk-0", eviction("zk-0")) == (201, SUCCESS)
        pod = c.registry.get(R.PODS, NS, "zk-0")
        assert pod["metadata"]["deletionGracePeriodSeconds"] == 30
        target = condition(pod, "DisruptionTarget") or {}
        assert (target["status"], target["reason"], target["message"]) == (
            "True", "EvictionByEvictionAPI", "Eviction API: evicting")
        status = c.registry.get(R.PDBS, NS, "zk-pdb")["status"]
        assert status["disruptionsAllowed"] == 0
        assert list(status["disruptedPods"]) == ["zk-0"]
        assert status["conditions"][0]["reason"] == "InsufficientPods"

        await wait_counters(c, (2, 2, 3, 0))
        with pytest.raises(ApiError) as blocked:
            evict(c.registry, NS, "zk-1", eviction("zk-1"))
        assert blocked.value.status() == BLOCKED
        assert not blocked.value.retry_after  # no Retry-After: drain prints and retries itself
        assert c.registry.get(R.PODS, NS, "zk-1")["metadata"].get("deletionTimestamp") is None

        finish_deletion(c.registry, "zk-0")
        c.registry.create(R.PODS, NS, zk_pod(sts, 0))
        await wait_for(c.store, lambda: node_of(c.registry, "zk-0"))
        set_running(c.registry, "zk-0")
        await wait_counters(c, (3, 2, 3, 1))
        assert evict(c.registry, NS, "zk-1", eviction("zk-1", "policy/v1beta1")) == (201, SUCCESS)

    run(tmp_path, scenario, with_controllers)


def test_pending_pod_is_evicted_without_consulting_the_budget(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        sts = await tutorial(c, ready=2)
        await wait_counters(c, (2, 2, 3, 0))
        # Unschedulable pending pod (anti-affinity keeps it off the three zk nodes).
        extra = zk_pod(sts, 3)
        extra["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "node-1"}
        c.registry.create(R.PODS, NS, extra)
        assert evict(c.registry, NS, "zk-3", eviction("zk-3")) == (201, SUCCESS)
        assert c.registry.try_get(R.PODS, NS, "zk-3") is None  # unbound: removed at once
        assert counters_unchanged(c)

        # Bound but not yet Running is Pending too: deleted gracefully, budget untouched.
        c.registry.create(R.PODS, NS, zk_pod(sts, 3))
        await wait_for(c.store, lambda: node_of(c.registry, "zk-3"))
        assert evict(c.registry, NS, "zk-3", eviction("zk-3")) == (201, SUCCESS)
        assert c.registry.get(R.PODS, NS, "zk-3")["metadata"]["deletionTimestamp"]
        assert counters_unchanged(c)

    run(tmp_path, scenario, with_controllers)


def counters_unchanged(c: Cluster) -> bool:
    status = c.registry.get(R.PDBS, NS, "zk-pdb")["status"]
    return status["disruptionsAllowed"] == 0 and "disruptedPods" not in status


def test_unhealthy_pod_policies(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        await tutorial(c, ready=2)
        await wait_counters(c, (2, 2, 3, 0))
        # IfHealthyBudget (default): the budget is met (2 >= 2 > 0), so unready zk-2 may go.
        assert evict(c.registry, NS, "zk-2", eviction("zk-2")) == (201, SUCCESS)
        assert counters_unchanged(c)
        finish_deletion(c.registry, "zk-2")

        set_running(c.registry, "zk-1", ready=False)
        await wait_counters(c, (1, 2, 3, 0))
        with pytest.raises(ApiError) as blocked:
            evict(c.registry, NS, "zk-1", eviction("zk-1"))
        assert blocked.value.code == 429
        assert blocked.value.causes[0]["message"] == (
            "The disruption budget zk-pdb needs 2 healthy pods and has 1 currently")

        pdb = c.registry.get(R.PDBS, NS, "zk-pdb")
        pdb["spec"]["unhealthyPodEvictionPolicy"] = "AlwaysAllow"
        c.registry.update(R.PDBS, NS, "zk-pdb", pdb)
        await wait_for(c.store, lambda: c.registry.get(R.PDBS, NS, "zk-pdb")["status"][
            "observedGeneration"] == 2)
        assert evict(c.registry, NS, "zk-1", eviction("zk-1")) == (201, SUCCESS)

    run(tmp_path, scenario, with_controllers)


def test_request_errors(tmp_path: Path) -> None:
    """Without the controller, the budget's status is whatever the test writes."""

    async def scenario(c: Cluster) -> None:
        sts = create_zk_set(c.registry)
        create_zk_pods(c.registry, sts, range(2))
        for i in range(2):
            c.registry.bind_pod(NS, f"zk-{i}", f"node-{i + 1}")
            set_running(c.registry, f"zk-{i}")
        pdb = c.registry.create(R.PDBS, NS, zk_objects()["zk-pdb"])

        with pytest.raises(ApiError) as err:
            evict(c.registry, NS, "zk-0", eviction("zk-1"))
        assert (err.value.code, err.value.message) == (
            400, "name in URL does not match name in Eviction object")
        with pytest.raises(ApiError) as err:
            evict(c.registry, NS, "nope", eviction("nope"))
        assert (err.value.code, err.value.message) == (404, 'pods "nope" not found')

        # Generation 1, observedGeneration unset: still being processed.
        with pytest.raises(ApiError) as err:
            evict(c.registry, NS, "zk-0", eviction("zk-0"))
        assert err.value.status()["details"] == {
            "causes": [{"reason": "DisruptionBudget", "message": "The disruption budget zk-pdb "
                        "is still being processed by the server."}],
            "retryAfterSeconds": 10}

        status = {**pdb["status"], "observedGeneration": 1, "disruptionsAllowed": 1,
                  "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2}
        c.registry.update(R.PDBS, NS, "zk-pdb", {**pdb, "status": status}, subresource="status")
        second = copy.deepcopy(zk_objects()["zk-pdb"])
        second["metadata"]["name"] = "zk-pdb-2"
        c.registry.create(R.PDBS, NS, second)
        with pytest.raises(ApiError) as err:
            evict(c.registry, NS, "zk-0", eviction("zk-0"))
        assert err.value.status() == {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "This pod has more than one PodDisruptionBudget, which the eviction "
                       "subresource does not support.", "code": 500}
        c.registry.delete(R.PDBS, NS, "zk-pdb-2")

        # dryRun: the answer of a real eviction, with nothing changed.
        assert evict(c.registry, NS, "zk-0", eviction("zk-0", dryRun=["All"])) == (201, SUCCESS)
        assert c.registry.get(R.PODS, NS, "zk-0")["metadata"].get("deletionTimestamp") is None
        assert c.registry.get(R.PDBS, NS, "zk-pdb")["status"]["disruptionsAllowed"] == 1

        # deleteOptions reach the delete: grace 0 removes the pod at once.
        assert evict(c.registry, NS, "zk-0", eviction("zk-0", gracePeriodSeconds=0)) == (
            201, SUCCESS)
        assert c.registry.try_get(R.PODS, NS, "zk-0") is None
        assert c.registry.get(R.PDBS, NS, "zk-pdb")["status"]["disruptionsAllowed"] == 0

    run(tmp_path, scenario, lambda cluster: [])


def test_tutorial_drain_end_to_end(tmp_path: Path) -> None:
    """All control-plane controllers plus a kubelet stub, driven like `kubectl drain`."""

    async def scenario(c: Cluster) -> None:
        for name, res in (("zk-hs", R.SERVICES), ("zk-cs", R.SERVICES), ("zk-pdb", R.PDBS),
                          ("zk", R.STATEFULSETS)):
            c.registry.create(res, NS, zk_objects()[name])

        def ready(i: int) -> bool:
            pod = c.registry.try_get(R.PODS, NS, f"zk-{i}")
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                return False
            return (condition(pod, "Ready") or {}).get("status") == "True"

        async def healthy(pods: range | list[int]) -> None:
            await wait_for(c.store, lambda: all(ready(i) for i in pods) and c.registry.get(
                R.PDBS, NS, "zk-pdb")["status"]["disruptionsAllowed"] == 1, timeout=15)

        await healthy(range(3))
        assert [node_of(c.registry, f"zk-{i}") for i in range(3)] == ["node-1", "node-2",
                                                                       "node-3"]
        cordon(c.registry, "node-1")
        assert evict(c.registry, NS, "zk-0", eviction("zk-0")) == (201, SUCCESS)
        await healthy([0])
        assert node_of(c.registry, "zk-0") == "node-4"

        cordon(c.registry, "node-2")
        assert evict(c.registry, NS, "zk-1", eviction("zk-1")) == (201, SUCCESS)

        def pending_message() -> str | None:
            pod = c.registry.try_get(R.PODS, NS, "zk-1")
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                return None
            cond = condition(pod, "PodScheduled") or {}
            return cond.get("message") if cond.get("status") == "False" else None

        assert await wait_for(c.store, pending_message) == DRAIN_MESSAGE
        with pytest.raises(ApiError) as blocked:
            evict(c.registry, NS, "zk-2", eviction("zk-2"))
        assert blocked.value.status() == BLOCKED

        cordon(c.registry, "node-2", on=False)
        await healthy([1])
        assert node_of(c.registry, "zk-1") == "node-2"
        assert evict(c.registry, NS, "zk-2", eviction("zk-2")) == (201, SUCCESS)

    def everything(cluster: Cluster) -> list:
        return [*build_controllers(cluster), KubeletStub(cluster.registry)]

    run(tmp_path, scenario, everything)
