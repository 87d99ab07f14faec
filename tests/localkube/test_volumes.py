"""The volume binder and hostpath provisioner (tutorial checklist item 2, reclaim policies).

Checks: a claim of the default class gets `pvc-<uid>` backed by a real directory and is
Bound with what `kubectl get pvc` shows; reclaim Delete removes PV and directory, Retain
leaves a Released PV and the data; a matching pre-created PV is bound instead of
provisioning; the scheduler holds a pod until its immediate claim is bound.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.controllers import scheduler, volumes
from tests.localkube.drive import NS, node_of
from tests.localkube.kubesim import run, wait_for


def claim(name: str, size: str = "10Gi", cls: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return {"metadata": {"name": name}, "spec": spec}


def bound(c: Cluster, name: str) -> dict | None:
    pvc = c.registry.try_get(R.PVCS, NS, name)
    return pvc if pvc and pvc["status"].get("phase") == "Bound" else None


def test_default_class_provisions_a_directory_and_delete_reclaims_it(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        c.registry.create(R.PVCS, NS, claim("datadir-zk-0"))
        pvc = await wait_for(c.store, lambda: bound(c, "datadir-zk-0"))
        uid = pvc["metadata"]["uid"]
        assert pvc["spec"]["volumeName"] == f"pvc-{uid}"
        assert pvc["spec"]["storageClassName"] == "standard"
        assert pvc["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"],
                                 "capacity": {"storage": "10Gi"}}
        annotations = pvc["metadata"]["annotations"]
        assert annotations["pv.kubernetes.io/bind-completed"] == "yes"
        assert annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
        assert annotations["volume.kubernetes.io/storage-provisioner"] == "localkube.io/hostpath"

        pv = c.registry.get(R.PVS, "", f"pvc-{uid}")
        assert pv["status"]["phase"] == "Bound"
        assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == (
            "localkube.io/hostpath")
        spec = pv["spec"]
        assert spec["capacity"] == {"storage": "10Gi"}
        assert spec["accessModes"] == ["ReadWriteOnce"]
        assert spec["persistentVolumeReclaimPolicy"] == "Delete"
        assert spec["storageClassName"] == "standard"
        assert {k: spec["claimRef"][k] for k in ("kind", "namespace", "name", "uid")} == {
            "kind": "PersistentVolumeClaim", "namespace": NS, "name": "datadir-zk-0", "uid": uid}
        directory = Path(spec["hostPath"]["path"])
        assert directory == tmp_path.resolve() / "volumes" / f"pvc-{uid}"
        assert directory.is_dir() and stat.S_IMODE(directory.stat().st_mode) == 0o755
        (directory / "myid").write_text("1\n")

        c.registry.delete(R.PVCS, NS, "datadir-zk-0")
        await wait_for(c.store, lambda: c.registry.try_get(R.PVS, "", f"pvc-{uid}") is None)
        assert not directory.exists()

    run(tmp_path, scenario, volumes.build)


def test_retain_leaves_a_released_volume_and_its_data(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        c.registry.create(R.STORAGECLASSES, "", {"metadata": {"name": "keep"},
                                                 "provisioner": "localkube.io/hostpath",
                                                 "reclaimPolicy": "Retain"})
        c.registry.create(R.PVCS, NS, claim("data", "1Gi", "keep"))
        pvc = await wait_for(c.store, lambda: bound(c, "data"))
        name = pvc["spec"]["volumeName"]
        directory = Path(c.registry.get(R.PVS, "", name)["spec"]["hostPath"]["path"])
        (directory / "keep-me").write_text("x")
        c.registry.delete(R.PVCS, NS, "data")
        await wait_for(c.store, lambda: c.registry.get(R.PVS, "", name)["status"]["phase"]
                       == "Released")
        assert (directory / "keep-me").read_text() == "x"

    run(tmp_path, scenario, volumes.build)


def test_a_matching_static_volume_is_bound_instead_of_provisioning(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        for name, size in (("small", "100Mi"), ("fits", "1Gi"), ("big", "5Gi")):
            c.registry.create(R.PVS, "", {"metadata": {"name": name}, "spec": {
                "capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                "storageClassName": "manual", "hostPath": {"path": str(tmp_path / name)}}})
        await wait_for(c.store, lambda: c.registry.get(R.PVS, "", "big")["status"]["phase"]
                       == "Available")
        c.registry.create(R.PVCS, NS, claim("static", "500Mi", "manual"))
        pvc = await wait_for(c.store, lambda: bound(c, "static"))
        assert pvc["spec"]["volumeName"] == "fits"
        assert pvc["status"]["capacity"] == {"storage": "1Gi"}
        pv = c.registry.get(R.PVS, "", "fits")
        assert pv["status"]["phase"] == "Bound"
        assert pv["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
        assert c.registry.get(R.PVS, "", "big")["status"]["phase"] == "Available"

        c.registry.delete(R.PVCS, NS, "static")  # Retain is the default for static PVs
        await wait_for(c.store, lambda: c.registry.get(R.PVS, "", "fits")["status"]["phase"]
                       == "Released")

    run(tmp_path, scenario, volumes.build)


def test_scheduler_waits_for_the_claim_to_be_bound(tmp_path: Path) -> None:
    async def scenario(c: Cluster) -> None:
        c.registry.create(R.PVCS, NS, claim("datadir-web-0"))
        c.registry.create(R.PODS, NS, {"metadata": {"name": "web-0"}, "spec": {
            "containers": [{"name": "c", "image": "nginx"}],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "datadir-web-0"}}]}})

        def unschedulable() -> str | None:
            conditions = c.registry.get(R.PODS, NS, "web-0")["status"].get("conditions") or []
            return next((x["message"] for x in conditions if x["status"] == "False"), None)

        assert await wait_for(c.store, unschedulable) == (
            "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
            "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")
        binder = volumes.build(c)[0]
        binder.start()
        task = asyncio.create_task(binder.run())
        try:
            assert await wait_for(c.store, lambda: node_of(c.registry, "web-0"), timeout=10)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        c.registry.create(R.PODS, NS, {"metadata": {"name": "web-1"}, "spec": {
            "containers": [{"name": "c", "image": "nginx"}],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "missing"}}]}})
        conditions = await wait_for(c.store, lambda: c.registry.get(R.PODS, NS, "web-1")[
            "status"].get("conditions"))
        assert conditions[0]["message"].startswith(
            '0/4 nodes are available: persistentvolumeclaim "missing" not found. ')

    run(tmp_path, scenario, scheduler.build)
