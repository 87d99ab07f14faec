"""The StatefulSet controller's test environment, shared by `test_statefulset_*.py`.

`scenario` runs a test body against a real in-process control plane (no mocks) with the
StatefulSet controller, the garbage collector and fake nodes; `Env` reads and changes it;
`manifest` is the tutorial's ZooKeeper set with spec overrides; `rollout_status` is
`kubectl rollout status`'s verdict, which the creation and rollout tests both check.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import gc, statefulset
from localkube.registry.core import JSON_PATCH, MERGE_PATCH
from tests.localkube.kubesim import NS, FakeNodes, SimEnv, run, wait_for

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


class Env(SimEnv):
    """A cluster with the StatefulSet controller, the GC and fake nodes."""

    def sts(self, name: str = "zk") -> Any:
        return self.store.get(R.STATEFULSETS.key, NS, name)

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
