"""Printers for core kinds: nodes, services, endpoints, PV/PVC, config, events, storage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from localkube.apimachinery.meta import (
    translate_timestamp_since,
)
from localkube.apimachinery.quantity import QuantityError, canonical_quantity
from localkube.apiserver.tables.cells import (
    _NAME_DOC,
    _age,
    _age_col,
    _col,
    _meta,
    _name_col,
    _spec,
    _status,
)


def _format_labels(labels: Mapping[str, Any] | None) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs, or ``<none>``."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _quantity(value: Any) -> str:
    if value is None:
        return "0"
    try:
        return canonical_quantity(value)
    except QuantityError:
        return str(value)


_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def _access_modes(modes: Iterable[str] | None) -> str:
    present = set(modes or [])
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def _storage_class(obj: Mapping[str, Any]) -> str:
    annotations = _meta(obj).get("annotations") or {}
    if _STORAGE_CLASS_ANNOTATION in annotations:
        return str(annotations[_STORAGE_CLASS_ANNOTATION])
    return str(_spec(obj).get("storageClassName") or "")


_NODE_COLUMNS = [
    _name_col(),
    _col("Status", desc="The status of the node"),
    _col("Roles", desc="The roles of the node"),
    _age_col(),
    _col("Version", desc="Kubelet Version reported by the node."),
    _col("Internal-IP", priority=1, desc="List of addresses reachable to the node."),
    _col("External-IP", priority=1, desc="List of addresses reachable to the node."),
    _col("OS-Image", priority=1, desc="OS Image reported by the node."),
    _col("Kernel-Version", priority=1, desc="Kernel Version reported by the node."),
    _col("Container-Runtime", priority=1, desc="ContainerRuntime Version reported by the node."),
]


def _node_roles(labels: Mapping[str, Any]) -> str:
    roles: set[str] = set()
    for k, v in labels.items():
        if k.startswith("node-role.kubernetes.io/"):
            role = k[len("node-role.kubernetes.io/") :]
            if role:
                roles.add(role)
        elif k == "kubernetes.io/role" and v:
            roles.add(str(v))
    return ",".join(sorted(roles)) or "<none>"


def _node_address(node: Mapping[str, Any], kind: str) -> str:
    for addr in _status(node).get("addresses") or []:
        if addr.get("type") == kind:
            return str(addr.get("address", ""))
    return "<none>"


def _node_row(node: Mapping[str, Any], now: datetime) -> list[Any]:
    status = _status(node)
    states: list[str] = []
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            states = ["Ready" if cond.get("status") == "True" else "NotReady"]
    if not states:
        states = ["Unknown"]
    if _spec(node).get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [
        _meta(node).get("name", ""),
        ",".join(states),
        _node_roles(_meta(node).get("labels") or {}),
        _age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


_NAMESPACE_COLUMNS = [_name_col(), _col("Status", desc="The status of the namespace"), _age_col()]


def _namespace_row(ns: Mapping[str, Any], now: datetime) -> list[Any]:
    return [_meta(ns).get("name", ""), _status(ns).get("phase", ""), _age(ns, now)]


_SERVICE_COLUMNS = [
    _name_col(),
    _col("Type", desc="type determines how the Service is exposed."),
    _col("Cluster-IP", desc="clusterIP is the IP address of the service."),
    _col(
        "External-IP",
        desc="externalIPs is a list of IP addresses for which nodes in the"
        " cluster will also accept traffic for this service.",
    ),
    _col("Port(s)", desc="The list of ports that are exposed by this service."),
    _age_col(),
    _col(
        "Selector",
        priority=1,
        desc="Route service traffic to pods with label keys and values matching this selector.",
    ),
]


def _lb_ingress(svc: Mapping[str, Any]) -> str:
    seen: set[str] = set()
    for ing in (_status(svc).get("loadBalancer") or {}).get("ingress") or []:
        if ing.get("ip"):
            seen.add(ing["ip"])
        elif ing.get("hostname"):
            seen.add(ing["hostname"])
    return ",".join(sorted(seen))


def _external_ip(svc: Mapping[str, Any]) -> str:
    spec = _spec(svc)
    typ = spec.get("type") or "ClusterIP"
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    if typ in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if typ == "LoadBalancer":
        lb = _lb_ingress(svc)  # the server renders wide, so no 16-character clipping
        if external:
            return ",".join([*(lb.split(",") if lb else []), *external])
        return lb or "<pending>"
    if typ == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_ports(ports: Iterable[Mapping[str, Any]] | None) -> str:
    pieces = []
    for p in ports or []:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            pieces.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            pieces.append(f"{p.get('port')}/{proto}")
    return ",".join(pieces) or "<none>"


def _service_row(svc: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = _spec(svc)
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [
        _meta(svc).get("name", ""),
        spec.get("type") or "ClusterIP",
        cluster_ips[0] if cluster_ips else "<none>",
        _external_ip(svc),
        _service_ports(spec.get("ports")),
        _age(svc, now),
        _format_labels(spec.get("selector")),
    ]


_ENDPOINTS_COLUMNS = [
    _name_col(),
    _col("Endpoints", desc="The set of all endpoints is the union of all subsets."),
    _age_col(),
]


def _format_endpoints(subsets: list[Mapping[str, Any]] | None) -> str:
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for ss in subsets:
        addresses = ss.get("addresses") or []
        ports = ss.get("ports") or []
        if not ports:
            count += len(addresses)
            for addr in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(str(addr.get("ip", "")))
            continue
        for port in ports:
            count += len(addresses)
            for addr in addresses:
                if len(shown) == limit:
                    more = True
                    break
                ip = str(addr.get("ip", ""))
                host = f"[{ip}]" if ":" in ip else ip
                shown.append(f"{host}:{port.get('port')}")
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text


def _endpoints_row(ep: Mapping[str, Any], now: datetime) -> list[Any]:
    return [_meta(ep).get("name", ""), _format_endpoints(ep.get("subsets")), _age(ep, now)]


_PV_COLUMNS = [
    _name_col(),
    _col("Capacity", desc="capacity is the description of the persistent volume's resources."),
    _col("Access Modes", desc="accessModes contains all ways the volume can be mounted."),
    _col("Reclaim Policy", desc="What happens to a persistent volume when released."),
    _col(
        "Status",
        desc="phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    _col(
        "Claim",
        desc="claimRef is part of a bi-directional binding between"
        " PersistentVolume and PersistentVolumeClaim.",
    ),
    _col("StorageClass", desc="StorageClass of the pv"),
    _col("VolumeAttributesClass", desc="VolumeAttributesClass of the pv"),
    _col("Reason", desc="reason is a brief CamelCase string that describes any failure."),
    _age_col(),
    _col(
        "VolumeMode",
        priority=1,
        desc="volumeMode defines if a volume is intended to be used"
        " with a formatted filesystem or to remain in raw block state.",
    ),
]


def _pv_row(pv: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(pv), _status(pv)
    claim = spec.get("claimRef")
    claim_text = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    phase = "Terminating" if _meta(pv).get("deletionTimestamp") else status.get("phase", "")
    return [
        _meta(pv).get("name", ""),
        _quantity((spec.get("capacity") or {}).get("storage")),
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        phase,
        claim_text,
        _storage_class(pv),
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        _age(pv, now),
        spec.get("volumeMode") or "<unset>",
    ]


_PVC_COLUMNS = [
    _name_col(),
    _col("Status", desc="phase represents the current phase of PersistentVolumeClaim."),
    _col(
        "Volume",
        desc="volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    _col("Capacity", desc="capacity represents the actual resources of the underlying volume."),
    _col(
        "Access Modes",
        desc="accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    _col("StorageClass", desc="StorageClass of the pvc"),
    _col("VolumeAttributesClass", desc="VolumeAttributesClass of the pvc"),
    _age_col(),
    _col(
        "VolumeMode",
        priority=1,
        desc="volumeMode defines what type of volume is required by the claim.",
    ),
]


def _pvc_row(pvc: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(pvc), _status(pvc)
    phase = "Terminating" if _meta(pvc).get("deletionTimestamp") else status.get("phase", "")
    capacity = access = ""
    if spec.get("volumeName"):
        access = _access_modes(status.get("accessModes"))
        capacity = _quantity((status.get("capacity") or {}).get("storage"))
    return [
        _meta(pvc).get("name", ""),
        phase,
        spec.get("volumeName", ""),
        capacity,
        access,
        _storage_class(pvc),
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(pvc, now),
        spec.get("volumeMode") or "<unset>",
    ]


_CONFIGMAP_COLUMNS = [
    _name_col(),
    _col("Data", desc="Data contains the configuration data."),
    _age_col(),
]


def _configmap_row(cm: Mapping[str, Any], now: datetime) -> list[Any]:
    count = len(cm.get("data") or {}) + len(cm.get("binaryData") or {})
    return [_meta(cm).get("name", ""), count, _age(cm, now)]


_SECRET_COLUMNS = [
    _name_col(),
    _col("Type", desc="Used to facilitate programmatic handling of secret data."),
    _col("Data", desc="Data contains the secret data."),
    _age_col(),
]


def _secret_row(secret: Mapping[str, Any], now: datetime) -> list[Any]:
    return [
        _meta(secret).get("name", ""),
        secret.get("type", ""),
        len(secret.get("data") or {}),
        _age(secret, now),
    ]


_SERVICE_ACCOUNT_COLUMNS = [
    _name_col(),
    _col("Secrets", desc="Secrets is a list of the secrets in the same namespace."),
    _age_col(),
]


def _service_account_row(sa: Mapping[str, Any], now: datetime) -> list[Any]:
    return [_meta(sa).get("name", ""), len(sa.get("secrets") or []), _age(sa, now)]


_EVENT_COLUMNS = [
    _col(
        "Last Seen", desc="The time at which the most recent occurrence of this event was recorded."
    ),
    _col("Type", desc="Type of this event (Normal, Warning)."),
    _col(
        "Reason",
        desc="This should be a short, machine understandable string that gives the"
        " reason for the transition into the object's current status.",
    ),
    _col("Object", desc="The object that this event is about."),
    _col("Subobject", priority=1, desc="The field of the object the event is about."),
    _col("Source", priority=1, desc="The component reporting this event."),
    _col("Message", desc="A human-readable description of the status of this operation."),
    _col("First Seen", priority=1, desc="The time at which the event was first recorded."),
    _col("Count", priority=1, desc="The number of times this event has occurred."),
    _col("Name", priority=1, fmt="name", desc=_NAME_DOC),
]


def _event_row(ev: Mapping[str, Any], now: datetime) -> list[Any]:
    first = translate_timestamp_since(ev.get("firstTimestamp"), now)
    if not ev.get("firstTimestamp"):
        first = translate_timestamp_since(ev.get("eventTime"), now)
    last = translate_timestamp_since(ev.get("lastTimestamp"), now)
    if not ev.get("lastTimestamp"):
        last = first
    count = int(ev.get("count") or 0)
    series = ev.get("series")
    if series:
        last = translate_timestamp_since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    involved = ev.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    return [
        last,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        str(ev.get("message", "")).strip(),
        first,
        count,
        _meta(ev).get("name", ""),
    ]


_STORAGE_CLASS_COLUMNS = [
    _name_col(),
    _col("Provisioner", desc="provisioner indicates the type of the provisioner."),
    _col(
        "ReclaimPolicy",
        desc="reclaimPolicy controls the reclaimPolicy for dynamically"
        " provisioned PersistentVolumes of this storage class.",
    ),
    _col(
        "VolumeBindingMode",
        desc="volumeBindingMode indicates how PersistentVolumeClaims"
        " should be provisioned and bound.",
    ),
    _col(
        "AllowVolumeExpansion",
        desc="allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    _age_col(),
]

_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _storage_class_row(sc: Mapping[str, Any], now: datetime) -> list[Any]:
    annotations = _meta(sc).get("annotations") or {}
    name = str(_meta(sc).get("name", ""))
    if any(annotations.get(a) == "true" for a in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        sc.get("provisioner", ""),
        sc.get("reclaimPolicy") or "Delete",
        sc.get("volumeBindingMode") or "Immediate",
        bool(sc.get("allowVolumeExpansion") or False),
        _age(sc, now),
    ]


_LEASE_COLUMNS = [
    _name_col(),
    _col("Holder", desc="holderIdentity contains the identity of the holder of a current lease."),
    _age_col(),
]


def _lease_row(lease: Mapping[str, Any], now: datetime) -> list[Any]:
    return [
        _meta(lease).get("name", ""),
        _spec(lease).get("holderIdentity") or "",
        _age(lease, now),
    ]
