"""PersistentVolume binder and the `localkube.io/hostpath` dynamic provisioner.

A Pending claim is bound to the smallest matching pre-created PV, or else its class's
provisioner creates `pvc-<claim uid>`: a directory under `<state_dir>/volumes/` that outlives
pods (the kubelet bind-mounts it and applies fsGroup). Binding writes what `kubectl get pvc`
and the drills read: `spec.volumeName`, phase Bound, capacity, access modes, and the
bind-completed annotations. When a bound claim goes away the PV is Released; with reclaim
policy Delete a volume we provisioned is removed together with its directory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.quantity import QuantityError, parse_quantity
from localkube.apimachinery.selectors import LabelSelector
from localkube.controllers.base import Controller, Key
from localkube.registry import Registry
from localkube.registry.podutil import is_terminating, labels_of, stamp
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

PROVISIONER = "localkube.io/hostpath"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
STORAGE_PROVISIONER = ("volume.kubernetes.io/storage-provisioner",
                       "volume.beta.kubernetes.io/storage-provisioner")
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PV_CONTROLLER = "persistentvolume-controller"
PVC_REF = {"apiVersion": "v1", "kind": "PersistentVolumeClaim"}


def _bytes(value: Any) -> int:
    try:
        return parse_quantity(value).as_int()
    except (QuantityError, ValueError):
        return 0


def _request(pvc: Mapping[str, Any]) -> Any:
    return (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def _refers_to(ref: Mapping[str, Any] | None, pvc: Mapping[str, Any]) -> bool:
    """Does a PV's claimRef name this claim (a ref without uid is a user's pre-binding)?"""
    meta = pvc["metadata"]
    if not ref:
        return False
    return (ref.get("namespace") == meta["namespace"] and ref.get("name") == meta["name"]
            and ref.get("uid") in (None, "", meta["uid"]))


def matches(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> bool:
    """Could this PV satisfy this claim (`findMatchingVolume`, without node topology)?"""
    pv_spec, spec = pv.get("spec") or {}, pvc.get("spec") or {}
    ref = pv_spec.get("claimRef")
    if is_terminating(pv) or (ref and not _refers_to(ref, pvc)):
        return False
    if (pv.get("status") or {}).get("phase") in ("Released", "Failed"):
        return False
    if (pv_spec.get("storageClassName") or "") != (spec.get("storageClassName") or ""):
        return False
    if (pv_spec.get("volumeMode") or "Filesystem") != (spec.get("volumeMode") or "Filesystem"):
        return False
    if not set(spec.get("accessModes") or []) <= set(pv_spec.get("accessModes") or []):
        return False
    if _bytes((pv_spec.get("capacity") or {}).get("storage", 0)) < _bytes(_request(pvc) or 0):
        return False
    selector = spec.get("selector")
    return selector is None or LabelSelector.from_api(selector).matches(labels_of(pv))


def _set_phase(phase: str, now: str, message: str | None = None,
               volume: bool = True) -> Callable[[dict], None]:
    """A status mutator; PVs also record `lastPhaseTransitionTime` (GA in 1.31)."""

    def apply(obj: dict) -> None:
        status = obj.setdefault("status", {})
        if status.get("phase") != phase:
            status["phase"] = phase
            if volume:
                status["lastPhaseTransitionTime"] = now
        if message is not None:
            status["message"] = message

    return apply


class VolumeController(Controller):
    name = "persistentvolume-binder"
    watches = (R.PVCS.key, R.PVS.key, R.STORAGECLASSES.key)

    def __init__(self, registry: Registry, state_dir: Path) -> None:
        super().__init__(registry)
        self.root = Path(state_dir).resolve() / "volumes"

    # -- keys ------------------------------------------------------------------------------
    def initial_keys(self) -> Iterable[Key]:
        keys: list[Key] = [("pv", p["metadata"]["name"]) for p, _ in self.store.scan(R.PVS.key)]
        return keys + self._pending_claims()

    def _pending_claims(self) -> list[Key]:
        return [("pvc", c["metadata"]["namespace"], c["metadata"]["name"])
                for c, _ in self.store.scan(R.PVCS.key)
                if not (c.get("spec") or {}).get("volumeName")]

    def keys_for(self, change: Change) -> Iterator[Key]:
        obj, meta = change.obj, change.obj["metadata"]
        if change.resource == R.PVCS.key:
            yield "pvc", meta["namespace"], meta["name"]
            if change.type == DELETED:  # release whatever this claim held
                for pv, _ in self.store.scan(R.PVS.key):
                    if ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") == meta["uid"]:
                        yield "pv", pv["metadata"]["name"]
        elif change.resource == R.PVS.key:
            if change.type != DELETED:
                yield "pv", meta["name"]
            ref = (obj.get("spec") or {}).get("claimRef")
            if ref:
                yield "pvc", ref.get("namespace", ""), ref.get("name", "")
            elif change.type != DELETED:
                yield from self._pending_claims()
        else:
            yield from self._pending_claims()

    async def reconcile(self, key: Key) -> float | None:
        if key[0] == "pv":  # type: ignore[index]
            await self._sync_volume(str(key[1]))  # type: ignore[index]
        else:
            self._sync_claim(str(key[1]), str(key[2]))  # type: ignore[index]
        return None

    # -- claims ----------------------------------------------------------------------------
    def _sync_claim(self, namespace: str, name: str) -> None:
        pvc = self.registry.try_get(R.PVCS, namespace, name)
        if pvc is None or is_terminating(pvc):
            return
        spec = pvc.get("spec") or {}
        if spec.get("volumeName"):
            pv = self.registry.try_get(R.PVS, "", spec["volumeName"])
            if pv is None:
                if (pvc.get("status") or {}).get("phase") == "Bound":
                    lost = _set_phase("Lost", self._now(), volume=False)
                    self.registry.mutate(R.PVCS, namespace, name, lost, subresource="status")
                    self._event(pvc, "Warning", "ClaimLost",
                                "Bound claim has lost its PersistentVolume. Data on the volume "
                                "is lost!")
                return
            ref = (pv.get("spec") or {}).get("claimRef")
            if not ref or _refers_to(ref, pvc):
                self._bind(pv, pvc)
            return
        candidates = [pv for pv, _ in self.store.scan(R.PVS.key) if matches(pv, pvc)]
        if candidates:
            best = min(candidates, key=lambda pv: (
                not (pv.get("spec") or {}).get("claimRef"),  # pre-bound to this claim first
                _bytes(((pv.get("spec") or {}).get("capacity") or {}).get("storage", 0)),
                pv["metadata"]["name"]))
            self._bind(self.registry.get(R.PVS, "", best["metadata"]["name"]), pvc)
            return
        self._provision_or_wait(pvc)

    def _provision_or_wait(self, pvc: dict) -> None:
        class_name = (pvc.get("spec") or {}).get("storageClassName") or ""
        if not class_name:
            self._event(pvc, "Normal", "FailedBinding", "no persistent volumes available for "
                                                        "this claim and no storage class is set")
            return
        sc = self.store.peek(R.STORAGECLASSES.key, "", class_name)
        if sc is None:
            self._event(pvc, "Warning", "ProvisioningFailed",
                        f'storageclass.storage.k8s.io "{class_name}" not found')
            return
        annotations = pvc["metadata"].get("annotations") or {}
        waiting = sc.get("volumeBindingMode") == "WaitForFirstConsumer"
        if waiting and SELECTED_NODE not in annotations:
            self._event(pvc, "Normal", "WaitForFirstConsumer",
                        "waiting for first consumer to be created before binding")
            return
        provisioner = str(sc.get("provisioner", ""))
        meta = pvc["metadata"]
        if any(annotations.get(a) != provisioner for a in STORAGE_PROVISIONER):
            def mark(obj: dict) -> None:
                for a in STORAGE_PROVISIONER:
                    obj["metadata"].setdefault("annotations", {})[a] = provisioner

            pvc = self.registry.mutate(R.PVCS, meta["namespace"], meta["name"], mark) or pvc
        if provisioner != PROVISIONER:
            self._event(pvc, "Normal", "ExternalProvisioning",
                        "Waiting for a volume to be created either by the external provisioner "
                        f"'{provisioner}' or manually by the system administrator. If volume "
                        "creation is delayed, please verify that the provisioner is running and "
                        "correctly registered.")
            return
        self._provision(pvc, sc)

    def _provision(self, pvc: dict, sc: Mapping[str, Any]) -> None:
        meta, spec = pvc["metadata"], pvc.get("spec") or {}
        name = f"pvc-{meta['uid']}"
        component = f"{PROVISIONER}_localkube"
        self._event(pvc, "Normal", "Provisioning", "External provisioner is provisioning volume "
                    f'for claim "{meta["namespace"]}/{meta["name"]}"', component)
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o755)
        pv = self.registry.try_get(R.PVS, "", name)
        if pv is None:
            pv_spec: dict[str, Any] = {
                "capacity": {"storage": _request(pvc)},
                "accessModes": list(spec.get("accessModes") or []),
                "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
                "storageClassName": sc["metadata"]["name"],
                "volumeMode": spec.get("volumeMode") or "Filesystem",
                "hostPath": {"path": str(path), "type": ""},
                "claimRef": self._claim_ref(pvc),
            }
            if sc.get("mountOptions"):
                pv_spec["mountOptions"] = list(sc["mountOptions"])
            pv = self.registry.create(R.PVS, "", {
                "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER}},
                "spec": pv_spec,
            })
        self._event(pvc, "Normal", "ProvisioningSucceeded",
                    f"Successfully provisioned volume {name}", component)
        self._bind(pv, pvc)

    # -- binding ---------------------------------------------------------------------------
    @staticmethod
    def _claim_ref(pvc: Mapping[str, Any]) -> dict:
        meta = pvc["metadata"]
        return {**PVC_REF, "namespace": meta["namespace"],
                "name": meta["name"], "uid": meta["uid"],
                "resourceVersion": meta.get("resourceVersion", "")}

    def _bind(self, pv: dict, pvc: dict) -> None:
        """PV first (claimRef, Bound), then the claim (volumeName, annotations, Bound)."""
        pv_name, meta = pv["metadata"]["name"], pvc["metadata"]
        ref = self._claim_ref(pvc)
        now = self._now()

        def claim_volume(obj: dict) -> None:
            spec = obj.setdefault("spec", {})
            current = spec.get("claimRef") or {}
            if not current:
                obj["metadata"].setdefault("annotations", {})[BOUND_BY_CONTROLLER] = "yes"
            if current.get("uid") != ref["uid"]:
                spec["claimRef"] = {**current, **ref}

        self.registry.mutate(R.PVS, "", pv_name, claim_volume)
        bound = self.registry.mutate(R.PVS, "", pv_name, _set_phase("Bound", now),
                                     subresource="status") or pv

        def claim(obj: dict) -> None:
            annotations = obj["metadata"].setdefault("annotations", {})
            if not obj["spec"].get("volumeName"):
                obj["spec"]["volumeName"] = pv_name
                annotations[BOUND_BY_CONTROLLER] = "yes"
            annotations[BIND_COMPLETED] = "yes"

        self.registry.mutate(R.PVCS, meta["namespace"], meta["name"], claim)

        def claim_status(obj: dict) -> None:
            status = obj.setdefault("status", {})
            status["phase"] = "Bound"
            status["accessModes"] = list((bound.get("spec") or {}).get("accessModes") or [])
            status["capacity"] = dict((bound.get("spec") or {}).get("capacity") or {})

        self.registry.mutate(R.PVCS, meta["namespace"], meta["name"], claim_status,
                             subresource="status")

    # -- volumes ---------------------------------------------------------------------------
    async def _sync_volume(self, name: str) -> None:
        pv = self.registry.try_get(R.PVS, "", name)
        if pv is None or is_terminating(pv):
            return
        spec, phase = pv.get("spec") or {}, (pv.get("status") or {}).get("phase")
        ref = spec.get("claimRef")
        now = self._now()
        if not ref or not ref.get("uid"):  # free, or pre-bound to a claim not yet seen
            if phase not in ("Available", "Released", "Failed"):
                self.registry.mutate(R.PVS, "", name, _set_phase("Available", now),
                                     subresource="status")
            return
        pvc = self.store.peek(R.PVCS.key, ref.get("namespace", ""), ref.get("name", ""))
        if pvc is not None and pvc["metadata"].get("uid") == ref.get("uid"):
            if (pvc.get("spec") or {}).get("volumeName") == name and phase != "Bound":
                self.registry.mutate(R.PVS, "", name, _set_phase("Bound", now),
                                     subresource="status")
            return
        if phase != "Released" and phase != "Failed":
            self.registry.mutate(R.PVS, "", name, _set_phase("Released", now),
                                 subresource="status")
        policy = spec.get("persistentVolumeReclaimPolicy", "Retain")
        if policy == "Retain" or phase == "Failed":
            return
        ours = (pv["metadata"].get("annotations") or {}).get(PROVISIONED_BY) == PROVISIONER
        if policy != "Delete" or not ours:
            message = (f"error getting deleter volume plugin for volume \"{name}\": no deletable "
                       "volume plugin matched" if policy == "Delete" else
                       f"no volume plugin matched name: {policy}")
            self.registry.mutate(R.PVS, "", name, _set_phase("Failed", now, message),
                                 subresource="status")
            self.registry.record_event({"apiVersion": "v1", "kind": "PersistentVolume",
                                        "metadata": pv["metadata"]}, "Warning",
                                       "VolumeFailedDelete", message, PV_CONTROLLER)
            return
        path = Path(str((spec.get("hostPath") or {}).get("path", "")))
        if path.parent == self.root:  # never remove anything we did not create
            await asyncio.to_thread(shutil.rmtree, path, True)
        try:
            self.registry.delete(R.PVS, "", name)
        except ApiError as exc:
            if exc.code != 404:
                raise

    # -- helpers ---------------------------------------------------------------------------
    def _now(self) -> str:
        return stamp(self.registry.clock())

    def _event(self, pvc: Mapping[str, Any], kind: str, reason: str, message: str,
               component: str = PV_CONTROLLER) -> None:
        self.registry.record_event({**PVC_REF, "metadata": pvc["metadata"]}, kind, reason,
                                   message, component)


def build(cluster: Cluster) -> list[Controller]:
    return [VolumeController(cluster.registry, cluster.config.state_dir)]
