"""The garbage collector against a real in-process control plane (no mocks).

Checks, with ConfigMaps and Pods as generic owners and dependents: Background deletion collects
dependents whose owners are gone and only drops the dangling reference when another owner
lives; a reference whose UID does not match the live object counts as gone; Foreground keeps
the owner (deletionTimestamp + ``foregroundDeletion``) until its blocking dependents are gone,
but does not wait for non-blocking ones; Foreground cascades through a chain; Orphan strips the
references and then lets the owner go; objects left dangling before the GC started are
collected at start-up.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import gc
from localkube.registry import Registry
from tests.localkube.kubesim import NS, FakeNodes, SimEnv, run, settle, wait_for


def ref(owner: dict, *, block: bool = True, controller: bool = False) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": controller, "blockOwnerDeletion": block}


def configmap(registry: Registry, name: str, *owners: dict, finalizers: list[str] | None = None
              ) -> dict:
    meta: dict = {"name": name}
    if owners:
        meta["ownerReferences"] = list(owners)
    if finalizers:
        meta["finalizers"] = finalizers
    return registry.create(R.CONFIGMAPS, NS, {"metadata": meta, "data": {"k": "v"}})


def pod(registry: Registry, name: str, *owners: dict) -> dict:
    return registry.create(R.PODS, NS, {
        "metadata": {"name": name, "ownerReferences": list(owners)},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})


class Env(SimEnv):
    """A cluster with the garbage collector and fake nodes."""

    def cm(self, name: str) -> Any:
        return self.store.get(R.CONFIGMAPS.key, NS, name)

    async def until(self, cond: Callable[[], object], what: str) -> Any:
        return await wait_for(self.store, cond, 5.0, what)


def scenario(tmp_path: Path, body: Callable[[Env], Awaitable[None]],
             before_start: Callable[[Registry], None] | None = None) -> None:
    def build(cluster: Cluster) -> list:
        if before_start is not None:
            before_start(cluster.registry)
        return [*gc.build(cluster), FakeNodes(cluster.registry)]

    async def main(cluster: Cluster) -> None:
        await body(Env(cluster))

    run(tmp_path, main, build)


def test_background_collects_dependents_and_drops_only_dangling_refs(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        owner = configmap(env.registry, "owner")
        other = configmap(env.registry, "other")
        configmap(env.registry, "child", ref(owner))
        configmap(env.registry, "shared", ref(owner), ref(other))
        pod(env.registry, "worker", ref(owner, controller=True))
        await settle(env.cluster)
        assert env.cm("child") and env.pod("worker")  # solid owners: nothing to do

        env.registry.delete(R.CONFIGMAPS, NS, "owner", {"propagationPolicy": "Background"})
        assert env.cm("owner") is None  # Background: the owner goes at once
        await env.until(lambda: env.cm("child") is None, "child collected")
        await env.until(lambda: env.pod("worker") is None, "bound pod terminated and collected")
        shared = await env.until(
            lambda: len(env.cm("shared")["metadata"]["ownerReferences"]) == 1 and env.cm("shared"),
            "dangling ref dropped")
        assert shared["metadata"]["ownerReferences"] == [ref(other)]
        # The pod was bound, so the GC's delete was graceful (kubelet finished it).
        assert any(s.name == "worker" and s.terminating for s in env.rec.of(R.PODS))

    scenario(tmp_path, body)


def test_uid_mismatch_counts_as_gone(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        owner = configmap(env.registry, "owner")
        stale = dict(ref(owner), uid=str(uuid.uuid4()))  # same name, another incarnation
        configmap(env.registry, "child", stale)
        await env.until(lambda: env.cm("child") is None, "child of a vanished owner collected")
        assert env.cm("owner") is not None

    scenario(tmp_path, body)


def test_foreground_waits_for_blocking_dependents_only(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        owner = configmap(env.registry, "owner")
        pod(env.registry, "blocker", ref(owner, block=True))
        configmap(env.registry, "loose", ref(owner, block=False), finalizers=["example.com/hold"])
        await env.until(lambda: (env.pod("blocker") or {}).get("spec", {}).get("nodeName"),
                        "blocker bound")
        env.nodes.hold_termination.add("blocker")

        env.registry.delete(R.CONFIGMAPS, NS, "owner", {"propagationPolicy": "Foreground"})
        held = env.cm("owner")
        assert held["metadata"]["deletionTimestamp"]
        assert held["metadata"]["finalizers"] == ["foregroundDeletion"]
        await env.until(lambda: env.pod("blocker")["metadata"].get("deletionTimestamp"),
                        "blocking dependent deleted")
        await env.until(lambda: env.cm("loose")["metadata"].get("deletionTimestamp"),
                        "non-blocking dependent deleted")
        await settle(env.cluster)
        assert env.cm("owner") is not None, "owner waits for the blocking pod"

        env.nodes.finish(NS, "blocker")
        await env.until(lambda: env.cm("owner") is None, "owner removed")
        assert env.cm("loose") is not None, "a non-blocking dependent is not waited for"

    scenario(tmp_path, body)


def test_foreground_cascades_through_a_chain(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        a = configmap(env.registry, "a")
        b = configmap(env.registry, "b", ref(a))
        configmap(env.registry, "c", ref(b))
        env.registry.delete(R.CONFIGMAPS, NS, "a", {"propagationPolicy": "Foreground"})
        await env.until(lambda: not any(env.cm(n) for n in "abc"), "whole chain collected")
        gone = [s.name for s in env.rec.of(R.CONFIGMAPS) if s.type == "DELETED"]
        assert gone == ["c", "b", "a"]
        b_changes = [s for s in env.rec.of(R.CONFIGMAPS, "b") if s.type == "MODIFIED"]
        assert "foregroundDeletion" in b_changes[0].obj["metadata"]["finalizers"]

    scenario(tmp_path, body)


def test_orphan_strips_references_then_releases_owner(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        owner = configmap(env.registry, "owner")
        other = configmap(env.registry, "other")
        configmap(env.registry, "child", ref(owner, controller=True))
        configmap(env.registry, "shared", ref(owner), ref(other))
        pod(env.registry, "worker", ref(owner, controller=True))

        env.registry.delete(R.CONFIGMAPS, NS, "owner", {"propagationPolicy": "Orphan"})
        await env.until(lambda: env.cm("owner") is None, "owner released")
        assert "ownerReferences" not in env.cm("child")["metadata"]
        assert "ownerReferences" not in env.pod("worker")["metadata"]
        assert env.cm("shared")["metadata"]["ownerReferences"] == [ref(other)]
        assert not env.pod("worker")["metadata"].get("deletionTimestamp")
        # Orphaning happened before the owner went away.
        stripped = env.rec.index(lambda s: s.name == "child" and s.type == "MODIFIED")
        removed = env.rec.index(lambda s: s.name == "owner" and s.type == "DELETED")
        assert stripped < removed

    scenario(tmp_path, body)


def test_dangling_objects_found_at_start_up(tmp_path: Path) -> None:
    ghost = {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost",
             "uid": str(uuid.uuid4()), "blockOwnerDeletion": True}

    def before_start(registry: Registry) -> None:
        registry.create(R.CONFIGMAPS, NS, {"metadata": {"name": "left-behind",
                                                        "ownerReferences": [ghost]}})

    async def body(env: Env) -> None:
        await env.until(lambda: env.cm("left-behind") is None, "left-behind collected")

    scenario(tmp_path, body, before_start)


def test_cluster_scoped_owner_of_namespaced_dependent(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        node = env.registry.get(R.NODES, "", "node-2")
        configmap(env.registry, "node-bound", ref(node))
        await settle(env.cluster)
        assert env.cm("node-bound") is not None
        env.registry.delete(R.NODES, "", "node-2", {})
        await env.until(lambda: env.cm("node-bound") is None, "dependent of node collected")

    scenario(tmp_path, body)
