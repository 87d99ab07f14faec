"""Driving pods by hand for control-plane tests, as Kubernetes' integration tests do.

With `run_kubelets=False` nothing runs containers, so tests write pod status through the
status subresource (Running, Ready, podIP) and finish graceful deletions with grace 0.
`zk_objects` loads the tutorial manifest; `create_zk_pods` stamps pods from its StatefulSet
template the way the StatefulSet controller does (name, labels, controller ref, hostname,
subdomain, claim volume), so scheduler/PDB/endpoints tests do not depend on that controller.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

import yaml

from localkube import resources as R
from localkube.apimachinery.meta import format_time
from localkube.controllers.base import Controller, Key
from localkube.registry import Registry
from localkube.registry.podutil import ns_name
from localkube.store import DELETED, Change

NS = "default"
MANIFEST = Path(__file__).resolve().parents[2] / "harness" / "manifests" / "zookeeper.yaml"
POD_IPS = "127.77.0.{}"


def zk_objects() -> dict[str, dict]:
    """The tutorial's objects by name: zk-hs, zk-cs, zk-pdb, zk."""
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all(MANIFEST.read_text()) if d}


def create_zk_set(registry: Registry, replicas: int = 3) -> dict:
    sts = copy.deepcopy(zk_objects()["zk"])
    sts["spec"]["replicas"] = replicas
    return registry.create(R.STATEFULSETS, NS, sts)


def zk_pod(sts: dict, ordinal: int, with_claim: bool = False) -> dict:
    """One pod from the set's template, as the StatefulSet controller builds it."""
    name = f"{sts['metadata']['name']}-{ordinal}"
    template = copy.deepcopy(sts["spec"]["template"])
    meta = template.get("metadata") or {}
    meta.pop("creationTimestamp", None)
    meta["name"] = name
    meta["labels"] = {**(meta.get("labels") or {}),
                      "statefulset.kubernetes.io/pod-name": name,
                      "apps.kubernetes.io/pod-index": str(ordinal)}
    meta["ownerReferences"] = [{
        "apiVersion": "apps/v1", "kind": "StatefulSet", "name": sts["metadata"]["name"],
        "uid": sts["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    spec = template["spec"]
    spec["hostname"] = name
    spec["subdomain"] = sts["spec"]["serviceName"]
    if with_claim:
        spec.setdefault("volumes", []).append(
            {"name": "datadir", "persistentVolumeClaim": {"claimName": f"datadir-{name}"}})
    return {"metadata": meta, "spec": spec}


def create_zk_pods(registry: Registry, sts: dict, ordinals: range | list[int]) -> None:
    for i in ordinals:
        registry.create(R.PODS, NS, zk_pod(sts, i))


def set_running(registry: Registry, name: str, ready: bool = True, ns: str = NS,
                ip: str | None = None) -> dict:
    """What the kubelet reports: Running, an IP, Ready/ContainersReady."""
    now = format_time(registry.clock())

    def write(pod: dict) -> None:
        status = pod.setdefault("status", {})
        status["phase"] = "Running"
        status["podIP"] = ip or status.get("podIP") or POD_IPS.format(_index(name))
        status["podIPs"] = [{"ip": status["podIP"]}]
        keep = [c for c in status.get("conditions") or []
                if c.get("type") not in ("Ready", "ContainersReady")]
        value = "True" if ready else "False"
        for kind in ("ContainersReady", "Ready"):
            keep.append({"type": kind, "status": value, "lastProbeTime": None,
                         "lastTransitionTime": now})
        status["conditions"] = keep

    pod = registry.mutate(R.PODS, ns, name, write, subresource="status")
    assert pod is not None, f"pod {name} does not exist"
    return pod


def _index(name: str) -> int:
    digits = "".join(ch for ch in name if ch.isdigit())
    return 10 + int(digits or 0) % 200


def finish_deletion(registry: Registry, name: str, ns: str = NS) -> None:
    """The kubelet's last word on a terminating pod: DELETE with grace 0 and its UID."""
    pod = registry.get(R.PODS, ns, name)
    registry.delete(R.PODS, ns, name, {"gracePeriodSeconds": 0,
                                       "preconditions": {"uid": pod["metadata"]["uid"]}})


def node_of(registry: Registry, name: str, ns: str = NS) -> str | None:
    pod = registry.try_get(R.PODS, ns, name)
    return (pod or {}).get("spec", {}).get("nodeName")


def events(registry: Registry, involved: str, reason: str | None = None,
           ns: str = NS) -> list[dict]:
    items, _ = registry.list(R.EVENTS, ns)
    return [e for e in items if e["involvedObject"]["name"] == involved
            and (reason is None or e["reason"] == reason)]


def cordon(registry: Registry, node: str, on: bool = True) -> None:
    """What `kubectl cordon`/`uncordon` send: a strategic-merge patch of spec.unschedulable."""
    registry.patch(R.NODES, "", node, "application/strategic-merge-patch+json",
                   {"spec": {"unschedulable": True if on else None}})


class KubeletStub(Controller):
    """Every node's kubelet in one: bound pods become Running+Ready, terminating pods finish.

    Unlike `kubesim.FakeNodes` it never binds, so the real scheduler decides placement.
    """

    name = "kubelet-stub"
    watches = (R.PODS.key,)

    def keys_for(self, change: Change) -> Iterable[Key]:
        meta = change.obj["metadata"]
        return [] if change.type == DELETED else [(meta["namespace"], meta["name"])]

    async def reconcile(self, key: Key) -> float | None:
        ns, name = ns_name(key)
        pod = self.store.peek(R.PODS.key, ns, name)
        if pod is None or not pod["spec"].get("nodeName"):
            return None
        if pod["metadata"].get("deletionTimestamp"):
            self.registry.delete(R.PODS, ns, name, {
                "gracePeriodSeconds": 0, "preconditions": {"uid": pod["metadata"]["uid"]}})
        elif (pod.get("status") or {}).get("phase") == "Pending":
            set_running(self.registry, name, ns=ns)
        return None
