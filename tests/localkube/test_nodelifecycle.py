"""The node-lifecycle controller: the unschedulable taint follows `kubectl cordon`.

Checks: cordon (a strategic-merge patch of spec.unschedulable) adds exactly
`{key: node.kubernetes.io/unschedulable, effect: NoSchedule}` (no value, no timeAdded),
uncordon (`unschedulable: null`) removes it, other taints are kept, and nodes stay Ready.
"""

from __future__ import annotations

from pathlib import Path

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import nodelifecycle
from localkube.registry.podutil import condition
from tests.localkube.drive import cordon
from tests.localkube.kubesim import run, settle, wait_for

TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def taints(c: Cluster, node: str) -> list[dict]:
    return c.registry.get(R.NODES, "", node)["spec"].get("taints", [])


def test_taint_follows_cordon_and_uncordon(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        cordon(c.registry, "node-2")
        await wait_for(c.store, lambda: taints(c, "node-2") == [TAINT])
        node = c.registry.get(R.NODES, "", "node-2")
        assert node["spec"]["unschedulable"] is True
        assert (condition(node, "Ready") or {}).get("status") == "True"
        assert all(taints(c, n) == [] for n in ("node-1", "node-3", "node-4"))

        cordon(c.registry, "node-2", on=False)
        await wait_for(c.store, lambda: "taints" not in c.registry.get(R.NODES, "", "node-2")[
            "spec"])
        assert "unschedulable" not in c.registry.get(R.NODES, "", "node-2")["spec"]

    run(tmp_path, scenario, nodelifecycle.build)


def test_other_taints_are_kept(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        dedicated = {"key": "dedicated", "value": "zk", "effect": "NoSchedule"}
        c.registry.patch(R.NODES, "", "node-1", "application/merge-patch+json",
                         {"spec": {"taints": [dedicated]}})
        cordon(c.registry, "node-1")
        await wait_for(c.store, lambda: taints(c, "node-1") == [dedicated, TAINT])
        cordon(c.registry, "node-1", on=False)
        await wait_for(c.store, lambda: taints(c, "node-1") == [dedicated])
        rv = c.registry.get(R.NODES, "", "node-1")["metadata"]["resourceVersion"]
        await settle(c)
        assert c.registry.get(R.NODES, "", "node-1")["metadata"]["resourceVersion"] == rv

    run(tmp_path, scenario, nodelifecycle.build)
