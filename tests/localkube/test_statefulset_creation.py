"""The StatefulSet controller creating and scaling pods, against a real in-process control
plane (no mocks).

Checks: OrderedReady creation (zk-1 only after zk-0 is Ready) with pod identity (labels,
hostname, subdomain, owner reference, claim volumes) and PVCs created first; status fields
and events, written only when they change; scale-down from the highest ordinal, one at a
time; a terminating pod blocks progress; failed pods are replaced; Parallel; minReadySeconds.
Updates are in test_statefulset_rollout.py, ownership and deletion in
test_statefulset_ownership.py.
"""

from __future__ import annotations

from pathlib import Path

from localkube import resources as R
from localkube.controllers.statefulset import revisions as V
from tests.localkube.kubesim import NS, settle
from tests.localkube.statefulset_env import HASH, Env, manifest, rollout_status, scenario


# -- creation, identity, status ---------------------------------------------------------------
def test_ordered_creation_identity_claims_and_status(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        await env.until(lambda: env.pod("zk-0"), "zk-0")
        await env.until(lambda: (env.pod("zk-0") or {}).get("status", {}).get("phase")
                        == "Pending" and env.pod("zk-0")["spec"].get("nodeName"), "zk-0 bound")
        env.nodes.set_state(NS, "zk-0", "Running", ready=False)
        await settle(env.cluster)
        assert env.pod("zk-1") is None, "zk-1 must wait for zk-0 to be Ready"
        assert env.sts()["status"]["replicas"] == 1
        env.nodes.make_ready("zk-0")
        await env.until(lambda: env.pod("zk-1"), "zk-1")
        await settle(env.cluster)
        assert env.pod("zk-2") is None
        env.nodes.make_ready("zk-1")
        await env.until(lambda: env.pod("zk-2"), "zk-2")
        env.nodes.make_ready("zk-2")
        sts = await env.rolled_out()

        # Strict order: each pod is created after its predecessor became Ready, and each
        # claim before its pod.
        for prev, nxt in (("zk-0", "zk-1"), ("zk-1", "zk-2")):
            assert env.rec.when(prev, lambda s: s.ready) < \
                env.rec.when(nxt, lambda s: s.type == "ADDED")
        for i in range(3):
            assert env.rec.when(f"datadir-zk-{i}") < env.rec.when(f"zk-{i}", resource=R.PODS)

        (rev_name,) = env.revisions()
        pod = env.pod("zk-1")
        meta = pod["metadata"]
        assert meta["labels"] == {"app": "zk", "statefulset.kubernetes.io/pod-name": "zk-1",
                                  "apps.kubernetes.io/pod-index": "1", HASH: rev_name}
        assert meta["generateName"] == "zk-"
        assert meta["ownerReferences"] == [{
            "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "zk",
            "uid": sts["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
        assert pod["spec"]["hostname"] == "zk-1"
        assert pod["spec"]["subdomain"] == "zk-hs"
        assert pod["spec"]["volumes"] == [
            {"name": "datadir", "persistentVolumeClaim": {"claimName": "datadir-zk-1"}}]
        assert pod["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "500m"}}

        claim = env.claim("datadir-zk-1")
        assert claim["metadata"]["labels"] == {"tier": "data", "app": "zk"}
        assert "ownerReferences" not in claim["metadata"]
        assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"

        assert sts["status"] == {
            "observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3,
            "updatedReplicas": 3, "currentRevision": rev_name, "updateRevision": rev_name,
            "collisionCount": 0, "availableReplicas": 3}
        assert rollout_status(sts) == (
            True, f"statefulset rolling update complete 3 pods at revision {rev_name}...")

        rev = env.revisions()[rev_name]
        hash_ = rev_name.removeprefix("zk-")
        assert rev["revision"] == 1
        assert rev["metadata"]["labels"] == {"app": "zk", "controller.kubernetes.io/hash": hash_}
        assert rev["metadata"]["ownerReferences"][0]["uid"] == sts["metadata"]["uid"]
        template = dict(sts["spec"]["template"], **{"$patch": "replace"})
        assert V.go_json(rev["data"]) == V.go_json({"spec": {"template": template}})

        assert sorted(env.events("SuccessfulCreate")) == sorted(
            [f"create Claim datadir-zk-{i} Pod zk-{i} in StatefulSet zk success"
             for i in range(3)] + [f"create Pod zk-{i} in StatefulSet zk successful"
                                   for i in range(3)])

    scenario(tmp_path, body, auto_ready=False)


def test_status_is_written_only_when_it_changes(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(replicas=1))
        await env.rolled_out(1)
        await settle(env.cluster)
        rv = env.sts()["metadata"]["resourceVersion"]
        env.nodes.set_state(NS, "zk-0", "Running", ready=True)  # no-op for the set's status
        env.registry.record_event(env.sts(), "Normal", "Poke", "nothing", "test")
        await settle(env.cluster)
        assert env.sts()["metadata"]["resourceVersion"] == rv

        env.patch([{"op": "replace", "path": "/spec/minReadySeconds", "value": 0}])
        sts = await env.until(
            lambda: env.sts()["status"].get("observedGeneration") == 2 and env.sts(),
            "observedGeneration 2")
        assert sts["metadata"]["generation"] == 2

    scenario(tmp_path, body)


# -- scaling -----------------------------------------------------------------------------
def test_scale_down_highest_first_one_at_a_time(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        await env.rolled_out()
        env.nodes.hold_termination.add("zk-2")
        mark = len(env.rec.changes)
        env.scale(1)
        await env.until(lambda: (env.pod("zk-2") or {}).get("metadata", {})
                        .get("deletionTimestamp"), "zk-2 terminating")
        await settle(env.cluster)
        assert not env.pod("zk-1")["metadata"].get("deletionTimestamp"), \
            "zk-1 must wait until zk-2 is gone"
        env.nodes.finish(NS, "zk-2")
        await env.until(lambda: env.pod("zk-1") is None, "zk-1 gone")
        await env.until(lambda: env.sts()["status"]["replicas"] == 1, "status.replicas 1")

        gone = [s.name for s in env.rec.changes[mark:] if s.resource == "pods"
                and s.type == "DELETED"]
        assert gone == ["zk-2", "zk-1"]
        assert env.rec.index(lambda s: s.name == "zk-2" and s.type == "DELETED") < \
            env.rec.index(lambda s: s.name == "zk-1" and s.terminating)
        assert sorted(env.events("SuccessfulDelete")) == [
            "delete Pod zk-1 in StatefulSet zk successful",
            "delete Pod zk-2 in StatefulSet zk successful"]
        # Retain/Retain: the claims outlive the scale-down.
        assert {f"datadir-zk-{i}" for i in range(3)} <= {
            c["metadata"]["name"] for c in env.store.list(R.PVCS.key, NS)}

    scenario(tmp_path, body)


def test_terminating_pod_blocks_ordered_progress(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(replicas=1))
        await env.rolled_out(1)
        uid = env.pod("zk-0")["metadata"]["uid"]
        env.nodes.hold_termination.add("zk-0")
        env.registry.delete(R.PODS, NS, "zk-0", {})
        env.scale(2)
        await settle(env.cluster)
        assert env.pod("zk-0")["metadata"]["uid"] == uid  # still terminating
        assert env.pod("zk-1") is None
        env.nodes.finish(NS, "zk-0")
        await env.rolled_out(2)
        assert env.pod("zk-0")["metadata"]["uid"] != uid
        assert env.rec.index(lambda s: s.name == "zk-0" and s.ready and s.obj["metadata"]["uid"]
                             != uid) < env.rec.index(lambda s: s.name == "zk-1")

    scenario(tmp_path, body)


def test_failed_pod_is_deleted_and_recreated(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        await env.rolled_out()
        uid = env.pod("zk-1")["metadata"]["uid"]
        env.nodes.fail("zk-1")
        await env.until(lambda: (env.pod("zk-1") or {}).get("metadata", {}).get("uid")
                        not in (None, uid), "zk-1 recreated")
        await env.rolled_out()
        assert "delete Pod zk-1 in StatefulSet zk successful" in env.events("SuccessfulDelete")
        assert env.pod("zk-1")["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] \
            == "datadir-zk-1"

    scenario(tmp_path, body)


def test_parallel_creates_and_deletes_without_waiting(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(podManagementPolicy="Parallel"))
        await env.until(lambda: len(env.pods()) == 3, "three pods at once")
        assert not any(s.ready for s in env.rec.of(R.PODS))  # none was Ready yet
        for i in range(3):
            env.nodes.make_ready(f"zk-{i}")
        await env.rolled_out()
        for name in ("zk-1", "zk-2"):
            env.nodes.hold_termination.add(name)
        env.scale(1)
        await env.until(lambda: all(env.pod(n)["metadata"].get("deletionTimestamp")
                                    for n in ("zk-1", "zk-2")), "both terminating at once")

    scenario(tmp_path, body, auto_ready=False)


def test_min_ready_seconds_gates_progress_and_availability(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(replicas=2, minReadySeconds=1))
        await env.until(lambda: env.sts()["status"].get("readyReplicas") == 1, "zk-0 ready")
        st = env.sts()["status"]
        assert st["availableReplicas"] == 0 and env.pod("zk-1") is None
        await env.until(lambda: env.sts()["status"].get("availableReplicas") == 1,
                        "zk-0 available after minReadySeconds", timeout=5)
        await env.until(lambda: env.sts()["status"].get("availableReplicas") == 2,
                        "both available", timeout=8)
        ready0 = env.rec.first(lambda s: s.name == "zk-0" and s.ready).obj
        created1 = env.rec.first(lambda s: s.name == "zk-1" and s.type == "ADDED").obj
        assert created1["metadata"]["creationTimestamp"] > \
            next(c for c in ready0["status"]["conditions"] if c["type"] == "Ready")[
                "lastTransitionTime"]

    scenario(tmp_path, body)
