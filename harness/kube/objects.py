"""Get/list/create/patch/delete of the objects the drills touch, as API JSON dicts.

``Kind`` maps a kind to its REST path; the kinds of the tutorial are built in and any other
(from a user's manifest) is found through API discovery once. ``Objects`` is the
namespace-bound half of the ``Cluster`` facade: named helpers for pods, StatefulSets,
PVCs, endpoints, PDBs, nodes and ControllerRevisions, each one request. A missing object is
``None`` from ``get``-style helpers, never an exception, because "is it gone yet?" is a
normal question in a drill.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from harness.errors import ClusterError
from harness.kube.transport import ApiError, Transport
from harness.model.objects import selector_string

PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}


@dataclass(frozen=True)
class Kind:
    kind: str
    api_version: str  # "v1", "apps/v1"
    plural: str
    namespaced: bool = True

    def path(
        self, namespace: str | None = None, name: str | None = None, sub: str | None = None
    ) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced:
            if not namespace:
                raise ValueError(f"{self.kind} is namespaced: a namespace is required")
            base += f"/namespaces/{namespace}"
        path = f"{base}/{self.plural}"
        if name:
            path += f"/{name}"
            if sub:
                path += f"/{sub}"
        return path


POD = Kind("Pod", "v1", "pods")
SERVICE = Kind("Service", "v1", "services")
ENDPOINTS = Kind("Endpoints", "v1", "endpoints")
PVC = Kind("PersistentVolumeClaim", "v1", "persistentvolumeclaims")
PV = Kind("PersistentVolume", "v1", "persistentvolumes", namespaced=False)
NODE = Kind("Node", "v1", "nodes", namespaced=False)
NAMESPACE = Kind("Namespace", "v1", "namespaces", namespaced=False)
EVENT = Kind("Event", "v1", "events")
CONFIGMAP = Kind("ConfigMap", "v1", "configmaps")
STATEFULSET = Kind("StatefulSet", "apps/v1", "statefulsets")
CONTROLLER_REVISION = Kind("ControllerRevision", "apps/v1", "controllerrevisions")
PDB = Kind("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets")
BUILTIN = {
    (k.api_version, k.kind): k
    for k in (
        POD,
        SERVICE,
        ENDPOINTS,
        PVC,
        PV,
        NODE,
        NAMESPACE,
        EVENT,
        CONFIGMAP,
        STATEFULSET,
        CONTROLLER_REVISION,
        PDB,
    )
}
_discovered: dict[tuple[str, str, str], Kind] = {}
_discovery_lock = threading.Lock()


def resolve_kind(transport: Transport, api_version: str, kind: str) -> Kind:
    """The built-in ``Kind`` or, for anything else, the one API discovery names."""
    known = BUILTIN.get((api_version, kind))
    if known is not None:
        return known
    key = (transport.server, api_version, kind)
    with _discovery_lock:
        if key not in _discovered:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                listing = transport.request("GET", base)
            except ApiError as exc:
                raise ClusterError(f"the API does not serve {api_version} ({exc})") from exc
            for resource in listing.get("resources", []):
                if resource.get("kind") == kind and "/" not in resource.get("name", "/"):
                    _discovered[key] = Kind(
                        kind, api_version, resource["name"], bool(resource.get("namespaced"))
                    )
                    break
            else:
                raise ClusterError(f"the API serves no kind {kind} in {api_version}")
        return _discovered[key]


def label_selector(match_labels: dict[str, str]) -> str:
    """``{"app": "zk"}`` -> ``"app=zk"`` (a StatefulSet's ``spec.selector.matchLabels``)."""
    return selector_string(match_labels)


class Objects:
    """Object helpers bound to one namespace (the ensemble's)."""

    def __init__(self, transport: Transport, namespace: str) -> None:
        self.transport = transport
        self.namespace = namespace

    # -- generic ---------------------------------------------------------------------------
    def get(self, kind: Kind, name: str) -> dict[str, Any] | None:
        try:
            return self.transport.request("GET", kind.path(self.namespace, name))
        except ApiError as exc:
            if exc.not_found:
                return None
            raise

    def list_objects(
        self, kind: Kind, selector: str | None = None, fields: str | None = None
    ) -> list[dict[str, Any]]:
        return self.list_with_version(kind, selector, fields)[0]

    def list_with_version(
        self, kind: Kind, selector: str | None = None, fields: str | None = None
    ) -> tuple[list[dict[str, Any]], str]:
        """Items and the list's resourceVersion (where a watch resumes)."""
        query = [("labelSelector", selector)] if selector else []
        if fields:
            query.append(("fieldSelector", fields))
        body = self.transport.request("GET", kind.path(self.namespace), query=query)
        items = body.get("items") or []
        return items, str((body.get("metadata") or {}).get("resourceVersion") or "")

    def create(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        return self.transport.request("POST", kind.path(self.namespace), body=body)

    def patch(
        self, kind: Kind, name: str, patch: Any, patch_type: str = "merge", sub: str | None = None
    ) -> dict[str, Any]:
        """Patch by ``merge`` / ``strategic`` / ``json`` (a list of operations)."""
        return self.transport.request(
            "PATCH",
            kind.path(self.namespace, name, sub),
            body=patch,
            content_type=PATCH_TYPES[patch_type],
        )

    def delete(
        self,
        kind: Kind,
        name: str,
        *,
        propagation: str | None = None,
        grace_seconds: int | None = None,
        uid: str | None = None,
    ) -> dict[str, Any] | None:
        """Delete; None when it was already gone. ``uid`` deletes only that incarnation."""
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation:
            body["propagationPolicy"] = propagation
        if grace_seconds is not None:
            body["gracePeriodSeconds"] = grace_seconds
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            return self.transport.request("DELETE", kind.path(self.namespace, name), body=body)
        except ApiError as exc:
            if exc.not_found:
                return None
            raise

    # -- named helpers -----------------------------------------------------------------------
    def pod(self, name: str) -> dict[str, Any] | None:
        return self.get(POD, name)

    def pods(self, selector: str | None = None) -> list[dict[str, Any]]:
        return self.list_objects(POD, selector)

    def delete_pod(self, name: str, *, grace_seconds: int | None = None) -> None:
        self.delete(POD, name, grace_seconds=grace_seconds)

    def statefulset(self, name: str) -> dict[str, Any] | None:
        return self.get(STATEFULSET, name)

    def patch_statefulset(self, name: str, patch: Any, patch_type: str = "strategic") -> dict:
        return self.patch(STATEFULSET, name, patch, patch_type)

    def delete_statefulset(self, name: str, propagation: str = "Background") -> None:
        """``kubectl delete statefulset zk`` (background cascade: the pods go too)."""
        self.delete(STATEFULSET, name, propagation=propagation)

    def pvc(self, name: str) -> dict[str, Any] | None:
        return self.get(PVC, name)

    def pvcs(self, selector: str | None = None) -> list[dict[str, Any]]:
        return self.list_objects(PVC, selector)

    def endpoints(self, name: str) -> dict[str, Any] | None:
        return self.get(ENDPOINTS, name)

    def pdb(self, name: str) -> dict[str, Any] | None:
        return self.get(PDB, name)

    def controller_revisions(self, selector: str | None = None) -> list[dict[str, Any]]:
        return self.list_objects(CONTROLLER_REVISION, selector)

    def events_for(self, name: str) -> list[dict[str, Any]]:
        """Events about one object (``kubectl describe``'s Events section), oldest first."""
        items = self.list_objects(EVENT, fields=f"involvedObject.name={name}")
        return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime")))

    def nodes(self) -> list[dict[str, Any]]:
        return self.list_objects(NODE)

    def node(self, name: str) -> dict[str, Any] | None:
        return self.get(NODE, name)

    def set_unschedulable(self, node: str, unschedulable: bool) -> dict[str, Any]:
        """``kubectl cordon`` / ``uncordon``."""
        return self.patch(NODE, node, {"spec": {"unschedulable": unschedulable or None}})

    def namespace_exists(self, name: str | None = None) -> bool:
        return self.get(NAMESPACE, name or self.namespace) is not None

    def create_namespace(self, name: str | None = None) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name or self.namespace},
        }
        try:
            self.create(NAMESPACE, body)
        except ApiError as exc:
            if not exc.conflict:
                raise
