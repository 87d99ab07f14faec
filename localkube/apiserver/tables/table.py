"""The Table envelope: printer registry, kind lookup, column/row plumbing and ``to_table``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from localkube.apimachinery.meta import (
    format_rfc3339,
    to_datetime,
)
from localkube.apiserver.tables.cells import (
    _AGE_DOC,
    Row,
    _col,
    _meta,
    _name_col,
    _time,
)
from localkube.apiserver.tables.core import (
    _CONFIGMAP_COLUMNS,
    _ENDPOINTS_COLUMNS,
    _EVENT_COLUMNS,
    _LEASE_COLUMNS,
    _NAMESPACE_COLUMNS,
    _NODE_COLUMNS,
    _PV_COLUMNS,
    _PVC_COLUMNS,
    _SECRET_COLUMNS,
    _SERVICE_ACCOUNT_COLUMNS,
    _SERVICE_COLUMNS,
    _STORAGE_CLASS_COLUMNS,
    _configmap_row,
    _endpoints_row,
    _event_row,
    _lease_row,
    _namespace_row,
    _node_row,
    _pv_row,
    _pvc_row,
    _secret_row,
    _service_account_row,
    _service_row,
    _storage_class_row,
)
from localkube.apiserver.tables.pods import _POD_COLUMNS, _pod_conditions, _pod_row
from localkube.apiserver.tables.rbac import (
    _CLUSTER_ROLE_BINDING_COLUMNS,
    _ROLE_BINDING_COLUMNS,
    _binding_row,
)
from localkube.apiserver.tables.workloads import (
    _CONTROLLER_REVISION_COLUMNS,
    _DEPLOYMENT_COLUMNS,
    _PDB_COLUMNS,
    _REPLICASET_COLUMNS,
    _STATEFULSET_COLUMNS,
    _controller_revision_row,
    _deployment_row,
    _pdb_row,
    _replicaset_row,
    _statefulset_row,
)

Now = datetime | str | float | int | None


_DEFAULT_COLUMNS = [_name_col(), _col("Created At", "date", _AGE_DOC)]


def _default_row(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    created = _time(_meta(obj).get("creationTimestamp"))
    # Go formats the zero time as year 0001; strftime would drop the padding.
    when = format_rfc3339(created) if created else "0001-01-01T00:00:00Z"
    return [_meta(obj).get("name", ""), when]


_PRINTERS: dict[str, tuple[list[dict], Row]] = {
    "Pod": (_POD_COLUMNS, _pod_row),
    "Node": (_NODE_COLUMNS, _node_row),
    "Namespace": (_NAMESPACE_COLUMNS, _namespace_row),
    "Service": (_SERVICE_COLUMNS, _service_row),
    "Endpoints": (_ENDPOINTS_COLUMNS, _endpoints_row),
    "PersistentVolume": (_PV_COLUMNS, _pv_row),
    "PersistentVolumeClaim": (_PVC_COLUMNS, _pvc_row),
    "ConfigMap": (_CONFIGMAP_COLUMNS, _configmap_row),
    "Secret": (_SECRET_COLUMNS, _secret_row),
    "ServiceAccount": (_SERVICE_ACCOUNT_COLUMNS, _service_account_row),
    "Event": (_EVENT_COLUMNS, _event_row),
    "StatefulSet": (_STATEFULSET_COLUMNS, _statefulset_row),
    "Deployment": (_DEPLOYMENT_COLUMNS, _deployment_row),
    "ReplicaSet": (_REPLICASET_COLUMNS, _replicaset_row),
    "ControllerRevision": (_CONTROLLER_REVISION_COLUMNS, _controller_revision_row),
    "PodDisruptionBudget": (_PDB_COLUMNS, _pdb_row),
    "StorageClass": (_STORAGE_CLASS_COLUMNS, _storage_class_row),
    "Lease": (_LEASE_COLUMNS, _lease_row),
    "RoleBinding": (_ROLE_BINDING_COLUMNS, _binding_row),
    "ClusterRoleBinding": (_CLUSTER_ROLE_BINDING_COLUMNS, _binding_row),
}

_RESOURCE_TO_KIND = {
    "pods": "Pod",
    "nodes": "Node",
    "namespaces": "Namespace",
    "services": "Service",
    "endpoints": "Endpoints",
    "persistentvolumes": "PersistentVolume",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "configmaps": "ConfigMap",
    "secrets": "Secret",
    "serviceaccounts": "ServiceAccount",
    "events": "Event",
    "statefulsets": "StatefulSet",
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "controllerrevisions": "ControllerRevision",
    "poddisruptionbudgets": "PodDisruptionBudget",
    "storageclasses": "StorageClass",
    "leases": "Lease",
    "rolebindings": "RoleBinding",
    "clusterrolebindings": "ClusterRoleBinding",
}


def table_kind(kind_or_resource: str) -> str | None:
    """The printer a kind (``Pod``) or resource (``pods``, ``statefulsets.apps``) uses, or
    ``None`` for the default Name/Created At table."""
    if kind_or_resource in _PRINTERS:
        return kind_or_resource
    resource = kind_or_resource.split(".")[0].lower()
    if resource in _RESOURCE_TO_KIND:
        return _RESOURCE_TO_KIND[resource]
    return next((k for k in _PRINTERS if k.lower() == resource), None)


def column_definitions(kind: str) -> list[dict]:
    """The ``columnDefinitions`` for a kind or resource (copies; safe to mutate)."""
    k = table_kind(kind)
    cols = _PRINTERS[k][0] if k else _DEFAULT_COLUMNS
    return [dict(c) for c in cols]


def _now(now: Now) -> datetime:
    return datetime.now(UTC) if now is None else to_datetime(now)


def row_cells(kind: str, obj: Mapping[str, Any], now: Now = None) -> list[Any]:
    """The cells of one object's row (wide cells included)."""
    k = table_kind(kind)
    printer = _PRINTERS[k][1] if k else _default_row
    return printer(obj, _now(now))


def _row_object(obj: Mapping[str, Any], include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return dict(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(obj.get("metadata") or {}),
    }


def to_table(
    kind: str,
    objs: Iterable[Mapping[str, Any]],
    now: Now = None,
    resource_version: str | None = None,
    *,
    include_object: str = "Metadata",
    no_headers: bool = False,
) -> dict:
    """Render ``objs`` as a ``meta.k8s.io/v1`` Table.

    ``kind`` is a kind or resource name (unknown ones get the default Name/Created At
    table); ``now`` (datetime, RFC 3339 or epoch seconds; default: the clock) drives the age
    columns; ``resource_version`` goes to ``metadata.resourceVersion`` (the list's RV, or the
    object's for a single GET); ``include_object`` is the ``includeObject`` parameter
    (``None``/``Metadata``/``Object``).
    """
    current = _now(now)
    k = table_kind(kind)
    columns, printer = _PRINTERS[k] if k else (_DEFAULT_COLUMNS, _default_row)
    rows = []
    for obj in objs:
        row: dict[str, Any] = {"cells": printer(obj, current)}
        if k == "Pod":
            conditions = _pod_conditions(obj)
            if conditions:
                row["conditions"] = conditions
        payload = _row_object(obj, include_object)
        if payload is not None:
            row["object"] = payload
        rows.append(row)
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = str(resource_version)
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [] if no_headers else [dict(c) for c in columns],
        "rows": rows,
    }
    return table
