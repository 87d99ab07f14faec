"""The StatefulSet controller against a real in-process control plane (no mocks).

Checks: OrderedReady creation (zk-1 only after zk-0 is Ready) with pod identity (labels,
hostname, subdomain, owner reference, claim volumes) and PVCs created first; scale-down from the
highest ordinal, one at a time; a terminating pod blocks progress; failed pods are replaced;
RollingUpdate 2→1→0 one at a time with the status transitions `kubectl rollout status` prints;
partition; OnDelete; rollback renumbers the old revision (history 2, 3) and keeps kubectl's
byte-for-byte "skipped rollback" test working; revision names equal Kubernetes' for the same
template; orphaning and re-adoption without restarts; PVC retention; Parallel; minReadySeconds;
status fields and events.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import gc, statefulset
from localkube.controllers.statefulset import revisions as V
from localkube.registry.core import JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH
from tests.localkube.kubesim import NS, FakeNodes, Recorder, component, run, settle, wait_for

ZK: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "zk"},
    "spec": {
        "serviceName": "zk-hs",
        "replicas": 3,
        "selector": {"matchLabels": {"app": "zk"}},
        "updateStrategy": {"type": "RollingUpdate"},
        "podManagementPolicy": "OrderedReady",
        "template": {
            "metadata": {"labels": {"app": "zk"}},
            "spec": {"containers": [{"name": "kubernetes-zookeeper", "image": "zk:1",
                                     "resources": {"requests": {"cpu": "0.5"}}}]},
        },
        "volumeClaimTemplates": [{
            "metadata": {"name": "datadir", "labels": {"tier": "data"}},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "10Gi"}}},
        }],
    },
}
HASH = "controller-revision-hash"


def manifest(**spec: object) -> dict:
    out = copy.deepcopy(ZK)
    out["spec"].update(spec)
    return out


class Env:
    """A cluster with the StatefulSet controller, the GC and fake nodes."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.registry = cluster.registry
        self.nodes: FakeNodes = component(cluster, FakeNodes)
        self.rec = Recorder(cluster.store)

    def sts(self, name: str = "zk") -> Any:
        return self.store.get(R.STATEFULSETS.key, NS, name)

    def pod(self, name: str) -> Any:
        return self.store.get(R.PODS.key, NS, name)

    def pods(self) -> dict[str, dict]:
        return {p["metadata"]["name"]: p for p in self.store.list(R.PODS.key, NS)}

    def claim(self, name: str) -> Any:
        return self.store.get(R.PVCS.key, NS, name)

    def raw_revision(self, name: str) -> bytes:
        """The stored bytes the apiserver sends for a revision."""
        return self.store.get_raw(R.REVISIONS.key, NS, name) or b""

    def revisions(self) -> dict[str, dict]:
        return {r["metadata"]["name"]: r for r in self.store.list(R.REVISIONS.key, NS)}

    def events(self, reason: str) -> list[str]:
        return [e["message"] for e in self.store.list(R.EVENTS.key, NS) if e["reason"] == reason]

    def create(self, obj: dict) -> dict:
        return self.registry.create(R.STATEFULSETS, NS, obj)

    def patch(self, body: object, kind: str = JSON_PATCH, name: str = "zk") -> dict:
        return self.registry.patch(R.STATEFULSETS, NS, name, kind, body)[0]

    def scale(self, replicas: int) -> dict:
        return self.patch({"spec": {"replicas": replicas}}, MERGE_PATCH)

    async def until(self, cond: Callable[[], object], what: str, timeout: float = 5.0) -> Any:
        return await wait_for(self.store, cond, timeout, what)

    async def rolled_out(self, replicas: int = 3, name: str = "zk") -> dict:
        """Observed, every replica ready and at the update revision, revisions agreeing."""
        def done() -> dict | None:
            s = self.sts(name)
            st = s.get("status") or {}
            ok = (st.get("observedGeneration") == s["metadata"]["generation"]
                  and st.get("readyReplicas", 0) == replicas == st.get("replicas")
                  and st.get("updatedReplicas", 0) == replicas
                  and st.get("currentRevision") == st.get("updateRevision"))
            return s if ok else None

        return await self.until(done, f"{name} rolled out with {replicas} replicas")


def scenario(tmp_path: Path, body: Callable[[Env], Awaitable[None]], *,
             auto_ready: bool = True) -> None:
    def build(cluster: Cluster) -> list:
        return [*statefulset.build(cluster), *gc.build(cluster),
                FakeNodes(cluster.registry, auto_ready=auto_ready)]

    async def main(cluster: Cluster) -> None:
        await body(Env(cluster))

    run(tmp_path, main, build)


def rollout_status(sts: dict) -> tuple[bool, str]:
    """`kubectl rollout status sts/<name>`'s verdict for one watch event."""
    spec, st = sts["spec"], sts.get("status") or {}
    replicas = spec.get("replicas", 1)
    observed = st.get("observedGeneration", 0)
    if observed == 0 or observed < sts["metadata"]["generation"]:
        return False, "Waiting for statefulset spec update to be observed..."
    if st.get("readyReplicas", 0) < replicas:
        return False, f"Waiting for {replicas - st.get('readyReplicas', 0)} pods to be ready..."
    rolling = spec["updateStrategy"].get("rollingUpdate")
    if rolling is not None and rolling.get("partition") is not None:
        wanted = replicas - rolling["partition"]
        if st.get("updatedReplicas", 0) < wanted:
            return False, (f"Waiting for partitioned roll out to finish: "
                           f"{st.get('updatedReplicas', 0)} out of {wanted} new pods have "
                           f"been updated...")
        return True, f"partitioned roll out complete: {st.get('updatedReplicas', 0)} new pods " \
                     f"have been updated..."
    if st.get("updateRevision") != st.get("currentRevision"):
        return False, (f"waiting for statefulset rolling update to complete "
                       f"{st.get('updatedReplicas', 0)} pods at revision "
                       f"{st.get('updateRevision')}...")
    return True, (f"statefulset rolling update complete {st.get('currentReplicas', 0)} pods at "
                  f"revision {st.get('currentRevision')}...")


def rollout_messages(env: Env, since: int) -> list[str]:
    out: list[str] = []
    for seen in env.rec.changes[since:]:
        if seen.resource == R.STATEFULSETS.key and seen.type != "DELETED":
            msg = rollout_status(seen.obj)[1]
            if not out or out[-1] != msg:
                out.append(msg)
    return out


def max_unhealthy(env: Env, since: int, names: list[str]) -> int:
    """Replay pod changes: the most pods that were missing, terminating or unready at once."""
    state = {n: env.pod(n) for n in names}
    worst = 0
    for seen in env.rec.changes[since:]:
        if seen.resource == R.PODS.key and seen.name in state:
            state[seen.name] = None if seen.type == "DELETED" else seen.obj
            bad = sum(1 for p in state.values()
                      if p is None or p["metadata"].get("deletionTimestamp")
                      or not any(c["type"] == "Ready" and c["status"] == "True"
                                 for c in p.get("status", {}).get("conditions", [])))
            worst = max(worst, bad)
    return worst


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


# -- updates -----------------------------------------------------------------------------
def test_rolling_update_highest_first_one_at_a_time(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        old = (await env.rolled_out())["status"]["currentRevision"]
        mark = len(env.rec.changes)
        env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/resources/"
                    "requests/cpu", "value": "0.3"}])
        sts = await env.rolled_out()
        new = sts["status"]["currentRevision"]
        assert new != old
        assert env.revisions()[new]["revision"] == 2
        assert {p["metadata"]["labels"][HASH] for p in env.pods().values()} == {new}
        assert all(p["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "300m"
                   for p in env.pods().values())

        deleted = [s.name for s in env.rec.changes[mark:]
                   if s.resource == "pods" and s.type == "DELETED"]
        assert deleted == ["zk-2", "zk-1", "zk-0"]
        for prev, nxt in (("zk-2", "zk-1"), ("zk-1", "zk-0")):
            back = env.rec.when(prev, lambda s: s.ready
                                and s.obj["metadata"]["labels"][HASH] == new)
            going = env.rec.when(nxt, lambda s: s.terminating)
            assert back < going, f"{prev} must be Ready again before {nxt} is deleted"
        assert max_unhealthy(env, mark, ["zk-0", "zk-1", "zk-2"]) == 1
        assert rollout_messages(env, mark) == [
            "Waiting for statefulset spec update to be observed...",
            f"waiting for statefulset rolling update to complete 0 pods at revision {new}...",
            "Waiting for 1 pods to be ready...",
            f"waiting for statefulset rolling update to complete 1 pods at revision {new}...",
            "Waiting for 1 pods to be ready...",
            f"waiting for statefulset rolling update to complete 2 pods at revision {new}...",
            "Waiting for 1 pods to be ready...",
            f"statefulset rolling update complete 3 pods at revision {new}...",
        ]

    scenario(tmp_path, body)


def test_partition_updates_only_ordinals_at_or_above_it(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(updateStrategy={"type": "RollingUpdate",
                                            "rollingUpdate": {"partition": 2}}))
        old = (await env.rolled_out())["status"]["currentRevision"]
        env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                    "value": "zk:2"}])

        def partitioned() -> dict | None:
            s = env.sts()
            done, _ = rollout_status(s)
            return s if done and s["status"]["observedGeneration"] == 2 else None

        sts = await env.until(partitioned, "partitioned roll out")
        await settle(env.cluster)
        new = sts["status"]["updateRevision"]
        labels = {n: p["metadata"]["labels"][HASH] for n, p in env.pods().items()}
        assert labels == {"zk-0": old, "zk-1": old, "zk-2": new}
        assert rollout_status(env.sts()) == (
            True, "partitioned roll out complete: 1 new pods have been updated...")
        st = env.sts()["status"]
        assert (st["currentRevision"], st["currentReplicas"], st["updatedReplicas"]) == \
            (old, 2, 1)
        # A deleted pod below the partition comes back at the current revision.
        env.registry.delete(R.PODS, NS, "zk-0", {})
        await env.until(lambda: env.pod("zk-0") and env.sts()["status"]["readyReplicas"] == 3,
                        "zk-0 back")
        assert env.pod("zk-0")["metadata"]["labels"][HASH] == old

        env.patch({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}},
                  STRATEGIC_PATCH)
        sts = await env.rolled_out()
        assert sts["status"]["currentRevision"] == new

    scenario(tmp_path, body)


def test_on_delete_replaces_only_deleted_pods(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(updateStrategy={"type": "OnDelete"}))
        await env.until(lambda: env.sts()["status"].get("readyReplicas") == 3, "ready")
        old = env.sts()["status"]["updateRevision"]
        env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                    "value": "zk:2"}])
        await env.until(lambda: env.sts()["status"].get("observedGeneration") == 2, "observed")
        await settle(env.cluster)
        st = env.sts()["status"]
        new = st["updateRevision"]
        assert new != old and st["currentRevision"] == old
        assert (st["currentReplicas"], st.get("updatedReplicas", 0)) == (3, 0)
        assert all(p["metadata"]["labels"][HASH] == old for p in env.pods().values())
        assert not env.events("SuccessfulDelete")

        env.registry.delete(R.PODS, NS, "zk-1", {})
        await env.until(lambda: (env.pod("zk-1") or {}).get("metadata", {}).get(
            "labels", {}).get(HASH) == new and env.sts()["status"].get("updatedReplicas") == 1,
            "zk-1 recreated at the update revision")
        assert env.pod("zk-1")["spec"]["containers"][0]["image"] == "zk:2"

    scenario(tmp_path, body)


def test_rollback_renumbers_the_old_revision(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        first = (await env.rolled_out())["status"]["currentRevision"]
        env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                    "value": "zk:2"}])
        second = (await env.rolled_out())["status"]["currentRevision"]
        revs = env.revisions()
        assert (revs[first]["revision"], revs[second]["revision"]) == (1, 2)

        # kubectl rollout undo: "current template already matches" is a byte comparison of
        # the revision data the server sends with the patch kubectl builds from the live set.
        def kubectl_patch(sts: dict) -> bytes:
            template = dict(sts["spec"]["template"], **{"$patch": "replace"})
            return V.go_json({"spec": {"template": template}})

        raw = env.raw_revision(second)
        assert b'"data":' + kubectl_patch(env.sts()) in raw  # would be "skipped rollback"
        assert b'"data":' + kubectl_patch(env.sts()) not in env.raw_revision(first)

        env.patch(revs[first]["data"], STRATEGIC_PATCH)  # what `rollout undo` sends
        sts = await env.rolled_out()
        assert sts["status"]["currentRevision"] == first
        revs = env.revisions()
        assert sorted(r["revision"] for r in revs.values()) == [2, 3]
        assert revs[first]["revision"] == 3
        assert {p["metadata"]["labels"][HASH] for p in env.pods().values()} == {first}
        assert all(p["spec"]["containers"][0]["image"] == "zk:1" for p in env.pods().values())
        assert b'"data":' + kubectl_patch(sts) in env.raw_revision(first)

    scenario(tmp_path, body)


def test_revision_history_limit(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(replicas=1, revisionHistoryLimit=1))
        await env.rolled_out(1)
        for image in ("zk:2", "zk:3", "zk:4"):
            env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                        "value": image}])
            await env.rolled_out(1)
        await settle(env.cluster)
        assert sorted(r["revision"] for r in env.revisions().values()) == [3, 4]

    scenario(tmp_path, body)


# -- revisions and ownership -------------------------------------------------------------
def test_revision_names_match_kubernetes(tmp_path: Path) -> None:
    """kubernetes/kubernetes' compatibility fixture: this set gets revision test-c77f6d978."""
    fixture: dict[str, Any] = {
        "metadata": {"name": "test", "labels": {"sslabel": "value"}},
        "spec": {
            "replicas": 1, "serviceName": "", "selector": {"matchLabels": {"app": "foo"}},
            "template": {"metadata": {"annotations": {"test": "value"}, "labels": {"app": "foo"}},
                         "spec": {"containers": [{"image": "test", "name": "test"}]}},
        },
    }

    async def body(env: Env) -> None:
        env.create(copy.deepcopy(fixture))
        await env.until(lambda: env.revisions(), "a revision")
        assert list(env.revisions()) == ["test-c77f6d978"]
        # The same template under another set name hashes the same way.
        other = copy.deepcopy(fixture)
        other["metadata"]["name"] = "other"
        other["spec"]["selector"] = {"matchLabels": {"app": "bar"}}
        other["spec"]["template"]["metadata"]["labels"] = {"app": "bar"}
        env.create(other)
        await env.until(lambda: len(env.revisions()) == 2, "second revision")
        assert "other-" + V.hash_data(V.revision_data(env.sts("other")), 0) in env.revisions()

    scenario(tmp_path, body)


def test_hash_primitives() -> None:
    assert V.fnv1_32(b"") == 0x811C9DC5
    assert V.fnv1_32(b"a") == 0x050C5D7E  # FNV-1, not FNV-1a (0xe40c292c)
    assert V.safe_encode("0123456789") == "456789bcdf"
    data = {"spec": {"template": {"$patch": "replace", "metadata": {"x": "<&>"}}}}
    assert V.go_json(data) == b'{"spec":{"template":{"$patch":"replace",' \
                              b'"metadata":{"x":"\\u003c\\u0026\\u003e"}}}}'
    assert V.hash_data(data, 0) != V.hash_data(data, 1)


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
