"""Special writes: the pods/binding subresource, namespace finalization, default StorageClass.

The matching `Registry` methods delegate here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.apimachinery.meta import format_time
from localkube.registry import apierrors as E

if TYPE_CHECKING:
    from localkube.registry.core import Registry


def bind_pod(reg: Registry, namespace: str, name: str, node: str) -> dict:
    """The pods/binding subresource: set spec.nodeName once and mark PodScheduled."""
    pod = reg.store.get(R.PODS.key, namespace, name)
    if pod is None:
        raise E.not_found(R.PODS, name)
    if pod["metadata"].get("deletionTimestamp"):
        raise E.conflict(R.PODS, name, "pod is being deleted, cannot be assigned to a host")
    current = (pod.get("spec") or {}).get("nodeName")
    if current:
        raise E.conflict(R.PODS, name, f'pod {name} is already assigned to node "{current}"')
    pod["spec"]["nodeName"] = node
    status = pod.setdefault("status", {})
    conditions = [c for c in status.get("conditions", []) if c.get("type") != "PodScheduled"]
    conditions.append(
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": format_time(reg.clock()),
        }
    )
    status["conditions"] = conditions
    return reg._typed(R.PODS, reg.store.commit(R.PODS.key, pod))


def finalize_namespace(reg: Registry, name: str) -> None:
    """Drop the namespace's `kubernetes` finalizer once its content is gone."""
    ns = reg.store.get(R.NAMESPACES.key, "", name)
    if ns is None or not ns["metadata"].get("deletionTimestamp"):
        return
    ns.setdefault("spec", {})["finalizers"] = []
    if ns["metadata"].get("finalizers"):
        reg.store.commit(R.NAMESPACES.key, ns)
    else:
        reg.store.remove(R.NAMESPACES.key, "", name)


def default_storage_class(reg: Registry) -> str | None:
    for sc, _ in reg.store.scan(R.STORAGECLASSES.key):
        annotations = sc["metadata"].get("annotations") or {}
        if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
            return str(sc["metadata"]["name"])
    return None
