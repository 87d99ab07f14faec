"""The scheduler against a real in-process control plane (4 nodes, 2 CPU / 4Gi each).

Checks: cordoned nodes are skipped; resource fit counts bound and terminating pods; pods
spread least-requested first, reproducibly; the tutorial template's hostname anti-affinity;
the exact FailedScheduling text of the tutorial's drain; the retry right after uncordon;
existing pods' anti-affinity; untolerated taints.
"""

from __future__ import annotations

from pathlib import Path

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import nodelifecycle, scheduler
from localkube.registry.podutil import condition
from tests.localkube.drive import (
    NS,
    cordon,
    create_zk_pods,
    create_zk_set,
    events,
    finish_deletion,
    node_of,
    zk_objects,
    zk_pod,
)
from tests.localkube.kubesim import run, settle, wait_for

DRAIN_MESSAGE = (
    "0/4 nodes are available: 2 node(s) didn't match pod anti-affinity rules, 2 node(s) were "
    "unschedulable. preemption: 0/4 nodes are available: 2 No preemption victims found for "
    "incoming pod, 2 Preemption is not helpful for scheduling."
)


def controllers(cluster: Cluster) -> list:
    return scheduler.build(cluster) + nodelifecycle.build(cluster)


def pod(name: str, cpu: str | None = None, **spec: object) -> dict:
    container: dict = {"name": "c", "image": "busybox"}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    labels = spec.pop("labels", {"app": "t"})
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"containers": [container], **spec}}


def unschedulable_message(cluster: Cluster, name: str) -> str | None:
    obj = cluster.registry.try_get(R.PODS, NS, name)
    cond = condition(obj or {}, "PodScheduled")
    if cond and cond["status"] == "False" and cond.get("reason") == "Unschedulable":
        return str(cond["message"])
    return None


def scheduled_status(cluster: Cluster, name: str) -> str | None:
    return (condition(cluster.registry.get(R.PODS, NS, name), "PodScheduled") or {}).get("status")


async def bound(cluster: Cluster, name: str, timeout: float = 5.0) -> str:
    return await wait_for(cluster.store, lambda: node_of(cluster.registry, name), timeout,
                          f"{name} to be bound")


def test_cordoned_nodes_are_skipped(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        for node in ("node-1", "node-2", "node-3"):
            cordon(c.registry, node)
        c.registry.create(R.PODS, NS, pod("p"))
        assert await bound(c, "p") == "node-4"
        [event] = events(c.registry, "p", "Scheduled")
        assert event["type"] == "Normal"
        assert event["message"] == "Successfully assigned default/p to node-4"
        assert event["source"]["component"] == "default-scheduler"
        assert scheduled_status(c, "p") == "True"

        cordon(c.registry, "node-4")
        c.registry.create(R.PODS, NS, pod("q"))
        message = await wait_for(c.store, lambda: unschedulable_message(c, "q"))
        assert message == (
            "0/4 nodes are available: 4 node(s) were unschedulable. preemption: 0/4 nodes are "
            "available: 4 Preemption is not helpful for scheduling.")

    run(tmp_path, scenario, controllers)


def test_resource_fit_counts_bound_and_terminating_pods(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        for node in ("node-2", "node-3", "node-4"):
            cordon(c.registry, node)
        for i in range(4):  # 4 x 500m fill node-1's 2 CPUs
            c.registry.create(R.PODS, NS, pod(f"r-{i}", cpu="0.5"))
            assert await bound(c, f"r-{i}") == "node-1"
        c.registry.create(R.PODS, NS, pod("r-4", cpu="0.5"))
        message = await wait_for(c.store, lambda: unschedulable_message(c, "r-4"))
        assert message == (
            "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) were unschedulable. "
            "preemption: 0/4 nodes are available: 1 No preemption victims found for incoming "
            "pod, 3 Preemption is not helpful for scheduling.")
        warnings = events(c.registry, "r-4", "FailedScheduling")
        assert [(e["type"], e["message"]) for e in warnings] == [("Warning", message)]

        c.registry.delete(R.PODS, NS, "r-0")  # graceful: still holds its CPU while terminating
        await settle(c)
        assert node_of(c.registry, "r-4") is None
        finish_deletion(c.registry, "r-0")
        assert await bound(c, "r-4") == "node-1"

    run(tmp_path, scenario, controllers)


def test_a_pod_larger_than_any_node_is_not_helped_by_preemption(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        c.registry.create(R.PODS, NS, pod("huge", cpu="3"))
        message = await wait_for(c.store, lambda: unschedulable_message(c, "huge"))
        assert message == ("0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes "
                           "are available: 4 Preemption is not helpful for scheduling.")

    run(tmp_path, scenario, controllers)


def test_pods_spread_least_requested_first_and_reproducibly(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        placed = []
        for i in range(8):
            c.registry.create(R.PODS, NS, pod(f"s-{i}"))
            placed.append(await bound(c, f"s-{i}"))
        assert placed == ["node-1", "node-2", "node-3", "node-4"] * 2

    run(tmp_path, scenario, controllers)


def test_zookeeper_template_spreads_one_server_per_node(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        sts = create_zk_set(c.registry)
        create_zk_pods(c.registry, sts, range(3))
        nodes = [await bound(c, f"zk-{i}") for i in range(3)]
        assert nodes == ["node-1", "node-2", "node-3"]
        # A fourth server has only node-4 left; a fifth has nowhere to go.
        c.registry.create(R.PODS, NS, zk_pod(sts, 3))
        assert await bound(c, "zk-3") == "node-4"
        c.registry.create(R.PODS, NS, zk_pod(sts, 4))
        message = await wait_for(c.store, lambda: unschedulable_message(c, "zk-4"))
        assert message.startswith("0/4 nodes are available: 4 node(s) didn't match pod "
                                  "anti-affinity rules. preemption:")

    run(tmp_path, scenario, controllers)


def test_tutorial_drain_leaves_zk_1_pending_until_uncordon(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        sts = create_zk_set(c.registry)
        create_zk_pods(c.registry, sts, range(3))
        assert [await bound(c, f"zk-{i}") for i in range(3)] == ["node-1", "node-2", "node-3"]

        async def drain(name: str, node: str) -> None:
            cordon(c.registry, node)
            c.registry.delete(R.PODS, NS, name)
            finish_deletion(c.registry, name)
            c.registry.create(R.PODS, NS, zk_pod(sts, int(name.rsplit("-", 1)[1])))

        await drain("zk-0", "node-1")
        assert await bound(c, "zk-0") == "node-4"
        await drain("zk-1", "node-2")
        message = await wait_for(c.store, lambda: unschedulable_message(c, "zk-1"))
        assert message == DRAIN_MESSAGE
        [event] = events(c.registry, "zk-1", "FailedScheduling")
        assert (event["type"], event["message"]) == ("Warning", DRAIN_MESSAGE)
        assert event["source"]["component"] == "default-scheduler"
        assert event["involvedObject"]["kind"] == "Pod"

        cordon(c.registry, "node-2", on=False)
        assert await bound(c, "zk-1", timeout=15) == "node-2"
        scheduled = [e["message"] for e in events(c.registry, "zk-1", "Scheduled")]
        assert scheduled[-1] == "Successfully assigned default/zk-1 to node-2"
        assert scheduled_status(c, "zk-1") == "True"

    run(tmp_path, scenario, controllers)


def test_existing_pods_anti_affinity_keeps_others_away(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        pin = {"kubernetes.io/hostname": "node-1"}
        loner = pod("loner", labels={"role": "loner"}, nodeSelector=pin, affinity={
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"role": "crowd"}},
                "topologyKey": "kubernetes.io/hostname"}]}})
        c.registry.create(R.PODS, NS, loner)
        assert await bound(c, "loner") == "node-1"
        c.registry.create(R.PODS, NS, pod("crowd", labels={"role": "crowd"}, nodeSelector=pin))
        message = await wait_for(c.store, lambda: unschedulable_message(c, "crowd"))
        assert message == (
            "0/4 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity "
            "rules, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes "
            "are available: 1 No preemption victims found for incoming pod, 3 Preemption is not "
            "helpful for scheduling.")

    run(tmp_path, scenario, controllers)


def test_untolerated_taints_and_tolerations(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        for node in ("node-1", "node-2", "node-3", "node-4"):
            c.registry.patch(R.NODES, "", node, "application/merge-patch+json", {
                "spec": {"taints": [{"key": "dedicated", "value": "zk", "effect": "NoSchedule"}]}})
        c.registry.create(R.PODS, NS, pod("plain"))
        message = await wait_for(c.store, lambda: unschedulable_message(c, "plain"))
        assert message.startswith(
            "0/4 nodes are available: 4 node(s) had untolerated taint {dedicated: zk}.")
        c.registry.create(R.PODS, NS, pod("tolerant", tolerations=[
            {"key": "dedicated", "operator": "Equal", "value": "zk", "effect": "NoSchedule"}]))
        assert await bound(c, "tolerant") == "node-1"

    run(tmp_path, scenario, controllers)


def test_manifest_is_the_one_with_effective_anti_affinity() -> None:
    """The drain message above needs the template's selector to select its own pods."""
    template = zk_objects()["zk"]["spec"]["template"]
    term = template["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["labelSelector"]["matchExpressions"][0] == {
        "key": "app", "operator": "In", "values": ["zk"]}
    assert template["metadata"]["labels"]["app"] == "zk"
