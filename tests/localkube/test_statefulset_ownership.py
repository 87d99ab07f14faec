"""The StatefulSet controller's ownership of its pods, revisions and claims, against a real
in-process control plane (no mocks) with the garbage collector.

Checks: orphaning and re-adoption without restarts; a pod whose labels stop matching is
released; Background and Foreground deletion (claims are kept); the PVC retention policy
hands claims to the GC; status serialises like Go's.
"""

from __future__ import annotations

import json
from pathlib import Path

from localkube import resources as R
from localkube.registry.core import MERGE_PATCH
from tests.localkube.kubesim import NS, settle
from tests.localkube.statefulset_env import Env, manifest, scenario


def test_orphan_then_reapply_adopts_without_restarts(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        sts = await env.rolled_out()
        rev = sts["status"]["currentRevision"]
        uids = {n: p["metadata"]["uid"] for n, p in env.pods().items()}
        env.registry.delete(R.STATEFULSETS, NS, "zk", {"propagationPolicy": "Orphan"})
        await env.until(lambda: env.sts() is None, "set gone after orphaning")
        assert all("ownerReferences" not in p["metadata"] for p in env.pods().values())
        assert "ownerReferences" not in env.revisions()[rev]["metadata"]

        mark = len(env.rec.changes)
        new = env.create(manifest())
        sts = await env.rolled_out()
        assert sts["status"]["currentRevision"] == rev
        assert list(env.revisions()) == [rev]
        assert {n: p["metadata"]["uid"] for n, p in env.pods().items()} == uids
        for pod in env.pods().values():
            assert pod["metadata"]["ownerReferences"][0]["uid"] == new["metadata"]["uid"]
        assert env.revisions()[rev]["metadata"]["ownerReferences"][0]["uid"] == \
            new["metadata"]["uid"]
        assert not [s for s in env.rec.changes[mark:] if s.resource == "pods"
                    and (s.type == "DELETED" or s.terminating)]

    scenario(tmp_path, body)


def test_pod_that_stops_matching_is_released(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(replicas=1))
        await env.rolled_out(1)
        env.registry.patch(R.PODS, NS, "zk-0", MERGE_PATCH, {"metadata": {"labels":
                                                                           {"app": "debug"}}})
        await env.until(lambda: "ownerReferences" not in env.pod("zk-0")["metadata"],
                        "zk-0 released")
        await env.until(lambda: len(env.pods()) == 1 and env.pod("zk-0"), "no duplicate")

    scenario(tmp_path, body)


def test_background_delete_removes_pods_and_revisions_keeps_claims(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        await env.rolled_out()
        env.registry.delete(R.STATEFULSETS, NS, "zk", {"propagationPolicy": "Background"})
        await env.until(lambda: not env.pods() and not env.revisions(), "dependents collected")
        claims = env.store.list(R.PVCS.key, NS)
        assert sorted(c["metadata"]["name"] for c in claims) == [
            "datadir-zk-0", "datadir-zk-1", "datadir-zk-2"]
        uids = {c["metadata"]["name"]: c["metadata"]["uid"] for c in claims}
        env.create(manifest())
        await env.rolled_out()
        assert {c["metadata"]["name"]: c["metadata"]["uid"]
                for c in env.store.list(R.PVCS.key, NS)} == uids  # reused, not recreated

    scenario(tmp_path, body)


def test_foreground_delete_waits_for_pods(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        await env.rolled_out()
        env.nodes.hold_termination.add("zk-1")
        env.registry.delete(R.STATEFULSETS, NS, "zk", {"propagationPolicy": "Foreground"})
        await env.until(lambda: env.pod("zk-0") is None and env.pod("zk-2") is None,
                        "unheld pods gone")
        await settle(env.cluster)
        held = env.sts()
        assert held["metadata"]["finalizers"] == ["foregroundDeletion"]
        assert held["status"]["replicas"] == 1  # status is still kept while deleting
        assert env.pod("zk-1")["metadata"]["deletionTimestamp"]
        env.nodes.finish(NS, "zk-1")
        await env.until(lambda: env.sts() is None, "set removed after its pods")
        await env.until(lambda: not env.revisions(), "revisions collected")
        assert len(env.store.list(R.PVCS.key, NS)) == 3

    scenario(tmp_path, body)


def test_retention_policy_delete_hands_claims_to_the_gc(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        policy = {"whenDeleted": "Delete", "whenScaled": "Delete"}
        env.create(manifest(persistentVolumeClaimRetentionPolicy=policy))
        sts = await env.rolled_out()
        claim = env.claim("datadir-zk-0")
        assert [r["uid"] for r in claim["metadata"]["ownerReferences"]] == [
            sts["metadata"]["uid"]]
        env.scale(2)
        await env.until(lambda: env.claim("datadir-zk-2") is None,
                        "scaled-away claim collected")
        env.registry.delete(R.STATEFULSETS, NS, "zk", {})
        await env.until(lambda: not env.store.list(R.PVCS.key, NS), "claims collected")

    scenario(tmp_path, body)


def test_status_serialises_like_go(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(replicas=0))
        await env.until(lambda: env.sts()["status"].get("observedGeneration") == 1, "observed")
        status = env.sts()["status"]
        (rev,) = env.revisions()
        assert json.dumps(status) == json.dumps({
            "observedGeneration": 1, "replicas": 0, "currentRevision": rev,
            "updateRevision": rev, "collisionCount": 0, "availableReplicas": 0})

    scenario(tmp_path, body)
