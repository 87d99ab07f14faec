"""Preferred (soft) pod anti-affinity, as the Bitnami chart and the Pravega operator set it.

Checks: the soft rule moves a replica off a node the resource score alone would pick; it
never blocks (with one eligible node, replicas share it); an existing pod's soft rule
repels the incoming pod too; the normalisation of InterPodAffinity's scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers.podaffinityscore import normalise, raw_scores
from tests.localkube.drive import NS
from tests.localkube.kubesim import run
from tests.localkube.test_scheduler import bound, controllers, pod

HOST = "kubernetes.io/hostname"


def soft_anti(labels: dict[str, str], weight: int = 1) -> dict:
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": weight,
        "podAffinityTerm": {"labelSelector": {"matchLabels": labels}, "topologyKey": HOST}}]}}


def fill_other_nodes(c: Cluster) -> None:
    """1 CPU on node-2..4, so the resource score alone prefers node-1 for the next pods."""
    for i in (2, 3, 4):
        c.registry.create(R.PODS, NS, pod(f"filler-{i}", cpu="1",
                                          nodeSelector={HOST: f"node-{i}"}))


def test_resource_score_alone_packs_onto_the_emptiest_node(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        fill_other_nodes(c)
        for name in ("plain-0", "plain-1"):
            c.registry.create(R.PODS, NS, pod(name, cpu="0.1", labels={"app": "plain"}))
        assert [await bound(c, n) for n in ("plain-0", "plain-1")] == ["node-1", "node-1"]

    run(tmp_path, scenario, controllers)


def test_preferred_anti_affinity_spreads_when_it_can(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        fill_other_nodes(c)
        labels = {"app": "soft"}
        for name in ("soft-0", "soft-1"):
            c.registry.create(R.PODS, NS, pod(name, cpu="0.1", labels=labels,
                                              affinity=soft_anti(labels)))
        assert await bound(c, "soft-0") == "node-1"
        assert await bound(c, "soft-1") != "node-1"

    run(tmp_path, scenario, controllers)


def test_preferred_anti_affinity_shares_a_node_when_it_must(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        labels = {"app": "soft"}
        pin = {HOST: "node-3"}
        for name in ("soft-0", "soft-1"):
            c.registry.create(R.PODS, NS, pod(name, labels=labels, nodeSelector=pin,
                                              affinity=soft_anti(labels)))
        assert [await bound(c, n) for n in ("soft-0", "soft-1")] == ["node-3", "node-3"]

    run(tmp_path, scenario, controllers)


def test_an_existing_pods_preferred_rule_repels_the_incoming_pod(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        fill_other_nodes(c)
        c.registry.create(R.PODS, NS, pod("shy", cpu="0.1", labels={"role": "shy"},
                                          affinity=soft_anti({"role": "crowd"}, weight=50)))
        assert await bound(c, "shy") == "node-1"
        c.registry.create(R.PODS, NS, pod("crowd", cpu="0.1", labels={"role": "crowd"}))
        assert await bound(c, "crowd") != "node-1"

    run(tmp_path, scenario, controllers)


def test_scores_are_signed_sums_over_the_topology_then_scaled() -> None:
    def member(name: str, uid: str, namespace: str = NS, **spec: Any) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": namespace, "uid": uid,
                             "labels": {"app": "z"}}, "spec": spec}

    me = member("b", "2", affinity=soft_anti({"app": "z"}, weight=20))
    other = member("a", "1")
    elsewhere = member("c", "3", namespace="other")
    nodes = {f"node-{i}": {HOST: f"node-{i}"} for i in (1, 2, 3)}
    placed = [(nodes["node-1"], other), (nodes["node-2"], elsewhere), (nodes["node-3"], me)]
    raw = raw_scores(me, nodes, placed, {})
    assert raw == {"node-1": -20, "node-2": 0, "node-3": 0}  # other namespace, itself: ignored
    assert normalise(raw) == {"node-1": 0, "node-2": 100, "node-3": 100}
    assert normalise({"node-1": 5, "node-2": 5}) == {"node-1": 0, "node-2": 0}
    assert normalise({}) == {}
