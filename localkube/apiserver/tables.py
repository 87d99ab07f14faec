"""Server-side ``Table`` rendering for ``kubectl get`` (``Accept: …;as=Table;g=meta.k8s.io``).

kubectl prints whatever columns and cells the server returns, so these rows follow
kube-apiserver's printers (pkg/printers/internalversion): the same column names, types and
priorities, and the same cell logic - above all the pod ``STATUS``/``READY``/``RESTARTS``
computation that drills and humans read.  The server always renders the wide (priority 1)
cells; kubectl hides them unless ``-o wide``.  Pure: the caller supplies objects, the list
resourceVersion and "now".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from localkube.apimachinery.meta import (
    controller_of,
    format_rfc3339,
    human_duration,
    split_api_version,
    to_datetime,
    translate_timestamp_since,
)
from localkube.apimachinery.quantity import QuantityError, canonical_quantity
from localkube.apimachinery.selectors import LabelSelector, SelectorSyntaxError

__all__ = ["column_definitions", "pod_status_cells", "row_cells", "table_kind", "to_table"]

Now = datetime | str | float | int | None
Row = Callable[[Mapping[str, Any], datetime], list[Any]]

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some"
    " resources may allow a client to request the generation of an appropriate name"
    " automatically. Name is primarily intended for creation idempotence and configuration"
    " definition. Cannot be updated. More info:"
    " https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created."
    " It is not guaranteed to be set in happens-before order across separate operations. Clients"
    " may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by"
    " the system. Read-only. Null for lists. More info:"
    " https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


def _col(name: str, typ: str = "string", desc: str = "", priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


def _name_col() -> dict:
    return _col("Name", fmt="name", desc=_NAME_DOC)


def _age_col() -> dict:
    return _col("Age", desc=_AGE_DOC)


_CONTAINERS = "Names of each container in the template."
_IMAGES = "Images referenced by each container in the template."


# ------------------------------------------------------------------------------ helpers


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(_meta(obj).get("creationTimestamp"), now)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return to_datetime(value)
    except (ValueError, TypeError, OverflowError):
        return None


def _format_labels(labels: Mapping[str, Any] | None) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs, or ``<none>``."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _format_selector(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the selector string, ``<none>`` or ``<error>``."""
    try:
        text = str(LabelSelector.from_api(selector))
    except SelectorSyntaxError:
        return "<error>"
    return text or "<none>"


def _quantity(value: Any) -> str:
    if value is None:
        return "0"
    try:
        return canonical_quantity(value)
    except QuantityError:
        return str(value)


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


# ---------------------------------------------------------------------------------- pods

_POD_COLUMNS = [
    _name_col(),
    _col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", desc="The aggregate status of the containers in this pod."),
    _col(
        "Restarts",
        desc="The number of times the containers in this pod have been restarted and when the"
        " last container in this pod has restarted.",
    ),
    _age_col(),
    _col("IP", priority=1, desc="podIP address allocated to the pod."),
    _col("Node", priority=1, desc="NodeName indicates in which node this pod is scheduled."),
    _col(
        "Nominated Node",
        priority=1,
        desc="nominatedNodeName is set when this pod preempts other pods on the node.",
    ),
    _col("Readiness Gates", priority=1, desc="Readiness gates evaluated for pod readiness."),
]


def _later(current: datetime | None, candidate: Any) -> datetime | None:
    t = _time(candidate)
    if t is None:
        return current
    return t if current is None or current < t else current


def _condition_true(status: Mapping[str, Any], ctype: str) -> bool:
    for cond in status.get("conditions") or []:
        if cond.get("type") == ctype:
            return cond.get("status") == "True"
    return False


def pod_status_cells(pod: Mapping[str, Any], now: datetime) -> tuple[str, str, str]:
    """``(READY, STATUS, RESTARTS)`` exactly as ``printPod`` computes them."""
    spec, status = _spec(pod), _status(pod)
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}

    def restartable(name: Any) -> bool:
        return (init_specs.get(name) or {}).get("restartPolicy") == "Always"

    total = len(spec.get("containers") or []) + sum(1 for n in init_specs if restartable(n))
    ready = 0
    restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    n_init = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        count = int(cs.get("restartCount") or 0)
        finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        restarts += count
        last_restart = _later(last_restart, finished)
        if restartable(cs.get("name")):
            sidecar_restarts += count
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if restartable(cs.get("name")) and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode') or 0}"
        elif (
            waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing"
        ):
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
            last_restart = _later(last_restart, finished)
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{terminated.get('exitCode') or 0}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"

    if _meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    return f"{ready}/{total}", reason, restarts_text


def _pod_row(pod: Mapping[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(pod), _status(pod)
    ready, reason, restarts = pod_status_cells(pod, now)
    ips = status.get("podIPs") or []
    pod_ip = (ips[0].get("ip") if ips else "") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        conditions = status.get("conditions") or []
        true = 0
        for gate in gates:
            for cond in conditions:
                if cond.get("type") == gate.get("conditionType"):
                    true += cond.get("status") == "True"
                    break
        gates_text = f"{true}/{len(gates)}"
    return [
        _meta(pod).get("name", ""),
        ready,
        reason,
        restarts,
        _age(pod, now),
        pod_ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


def _pod_conditions(pod: Mapping[str, Any]) -> list[dict] | None:
    phase = _status(pod).get("phase")
    if phase == "Succeeded":
        msg = "The pod has completed successfully."
    elif phase == "Failed":
        msg = "The pod failed."
    else:
        return None
    return [{"type": "Completed", "status": "True", "reason": phase, "message": msg}]


# --------------------------------------------------------------------------- other kinds

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
