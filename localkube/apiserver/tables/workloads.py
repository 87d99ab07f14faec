"""Printers for StatefulSet, Deployment, ReplicaSet, ControllerRevision and PDB."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from localkube.apimachinery.meta import (
    controller_of,
    split_api_version,
)
from localkube.apimachinery.selectors import LabelSelector, SelectorSyntaxError
from localkube.apiserver.tables.cells import (
    _age,
    _age_col,
    _col,
    _meta,
    _name_col,
    _spec,
    _status,
)

_CONTAINERS = "Names of each container in the template."
_IMAGES = "Images referenced by each container in the template."


def _format_selector(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the selector string, ``<none>`` or ``<error>``."""
    try:
        text = str(LabelSelector.from_api(selector))
    except SelectorSyntaxError:
        return "<error>"
    return text or "<none>"


def _int_or_string(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _layout_containers(containers: Iterable[Mapping[str, Any]] | None) -> tuple[str, str]:
    items = list(containers or [])
    return (
        ",".join(str(c.get("name", "")) for c in items),
        ",".join(str(c.get("image", "")) for c in items),
    )


def _template_containers(obj: Mapping[str, Any]) -> list:
    return ((_spec(obj).get("template") or {}).get("spec") or {}).get("containers") or []


_STATEFULSET_COLUMNS = [
    _name_col(),
    _col("Ready", desc="Number of the pod with ready state"),
    _age_col(),
    _col("Containers", priority=1, desc=_CONTAINERS),
    _col("Images", priority=1, desc=_IMAGES),
]


def _statefulset_row(sts: Mapping[str, Any], now: datetime) -> list[Any]:
    replicas = _spec(sts).get("replicas")
    replicas = 1 if replicas is None else replicas
    names, images = _layout_containers(_template_containers(sts))
    ready = int(_status(sts).get("readyReplicas") or 0)
    return [_meta(sts).get("name", ""), f"{ready}/{replicas}", _age(sts, now), names, images]


_DEPLOYMENT_COLUMNS = [
    _name_col(),
    _col("Ready", desc="Number of the pod with ready state"),
    _col(
        "Up-to-date",
        desc="Total number of non-terminating pods targeted by this deployment"
        " that have the desired template spec.",
    ),
    _col(
        "Available",
        desc="Total number of available non-terminating pods targeted by this deployment.",
    ),
    _age_col(),
    _col("Containers", priority=1, desc=_CONTAINERS),
    _col("Images", priority=1, desc=_IMAGES),
    _col("Selector", priority=1, desc="Label selector for pods."),
]


def _deployment_row(dep: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(dep), _status(dep)
    replicas = 1 if spec.get("replicas") is None else spec["replicas"]
    names, images = _layout_containers(_template_containers(dep))
    try:
        selector = str(LabelSelector.from_api(spec.get("selector")))
    except SelectorSyntaxError:
        selector = "<invalid>"
    return [
        _meta(dep).get("name", ""),
        f"{int(status.get('readyReplicas') or 0)}/{replicas}",
        int(status.get("updatedReplicas") or 0),
        int(status.get("availableReplicas") or 0),
        _age(dep, now),
        names,
        images,
        selector,
    ]


_REPLICASET_COLUMNS = [
    _name_col(),
    _col("Desired", "integer", "Replicas is the number of desired pods."),
    _col("Current", "integer", "Replicas is the most recently observed number of replicas."),
    _col("Ready", "integer", "The number of ready replicas for this replica set."),
    _age_col(),
    _col("Containers", priority=1, desc=_CONTAINERS),
    _col("Images", priority=1, desc=_IMAGES),
    _col("Selector", priority=1, desc="Label selector for pods."),
]


def _replicaset_row(rs: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(rs), _status(rs)
    names, images = _layout_containers(_template_containers(rs))
    return [
        _meta(rs).get("name", ""),
        int(1 if spec.get("replicas") is None else spec["replicas"]),
        int(status.get("replicas") or 0),
        int(status.get("readyReplicas") or 0),
        _age(rs, now),
        names,
        images,
        _format_selector(spec.get("selector")),
    ]


_CONTROLLER_REVISION_COLUMNS = [
    _name_col(),
    _col("Controller", desc="Controller of the object"),
    _col("Revision", desc="Revision indicates the revision of the state represented by Data."),
    _age_col(),
]


def _controller_revision_row(rev: Mapping[str, Any], now: datetime) -> list[Any]:
    ref = controller_of(rev)
    controller = "<none>"
    if ref is not None:
        group, _ = split_api_version(str(ref.get("apiVersion", "")))
        kind = str(ref.get("kind", ""))
        group_kind = f"{kind}.{group}" if group else kind
        name = str(ref.get("name", ""))
        controller = f"{group_kind.lower()}/{name}" if group_kind else name
    return [_meta(rev).get("name", ""), controller, int(rev.get("revision") or 0), _age(rev, now)]


_PDB_COLUMNS = [
    _name_col(),
    _col("Min Available", desc="The minimum number of pods that must be available."),
    _col("Max Unavailable", desc="The maximum number of pods that may be unavailable."),
    _col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    _age_col(),
]


def _pdb_row(pdb: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = _spec(pdb)
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    return [
        _meta(pdb).get("name", ""),
        "N/A" if min_available is None else _int_or_string(min_available),
        "N/A" if max_unavailable is None else _int_or_string(max_unavailable),
        int(_status(pdb).get("disruptionsAllowed") or 0),
        _age(pdb, now),
    ]
