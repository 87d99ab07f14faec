"""Pods: defaults, validation, immutability, QoS class and the grace period of a delete.

`default_pod_spec` is shared with workload templates so a StatefulSet's template reads
back with the same defaults kube-apiserver fills in (what `kubectl get -o yaml` shows).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from localkube.apimachinery.quantity import canonical_quantity
from localkube.registry.strategies.base import Strategy
from localkube.registry.validation import cause, forbidden, invalid_value, required, validate_name

if TYPE_CHECKING:
    from localkube.registry.core import Registry

DEFAULT_GRACE = 30
PROBE_DEFAULTS = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
MUTABLE_CONTAINER_FIELDS = ("image",)


def _default_probe(probe: dict | None) -> None:
    if isinstance(probe, dict):
        for key, value in PROBE_DEFAULTS.items():
            probe.setdefault(key, value)
        for handler in ("httpGet",):
            if isinstance(probe.get(handler), dict):
                probe[handler].setdefault("path", "/")
                probe[handler].setdefault("scheme", "HTTP")


def _canonical_resources(resources: dict) -> None:
    for section in ("requests", "limits"):
        values = resources.get(section)
        if isinstance(values, dict):
            for name, value in list(values.items()):
                with contextlib.suppress(ValueError):  # reported by validation
                    values[name] = canonical_quantity(str(value))


def default_container(container: dict) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
    container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    container.setdefault("resources", {})
    if isinstance(container["resources"], dict):
        _canonical_resources(container["resources"])
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        _default_probe(container.get(probe))


def default_pod_spec(spec: dict) -> None:
    """Fill the PodSpec defaults (also used for workload templates)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", DEFAULT_GRACE)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for kind in ("containers", "initContainers"):
        for container in spec.get(kind) or []:
            if isinstance(container, dict):
                default_container(container)
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict) and isinstance(volume.get("configMap"), dict):
            volume["configMap"].setdefault("defaultMode", 420)


def validate_pod_spec(spec: object, path: str) -> list[dict]:
    if not isinstance(spec, dict):
        return [required(path)]
    out: list[dict] = []
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        out.append(required(f"{path}.containers"))
        containers = []
    seen: set[str] = set()
    for i, container in enumerate(containers):
        field = f"{path}.containers[{i}]"
        if not isinstance(container, dict):
            out.append(invalid_value(field, container, "must be an object"))
            continue
        name = container.get("name")
        out += validate_name("Service", f"{field}.name", name)  # DNS-1123 label
        if name in seen:
            out.append(cause(f"{field}.name", f'Duplicate value: "{name}"', "FieldValueDuplicate"))
        seen.add(str(name))
        if not container.get("image"):
            out.append(required(f"{field}.image"))
        for section in ("requests", "limits"):
            values = (container.get("resources") or {}).get(section) or {}
            for res_name, value in values.items():
                try:
                    canonical_quantity(str(value))
                except ValueError:
                    out.append(
                        invalid_value(
                            f"{field}.resources.{section}[{res_name}]",
                            value,
                            "quantities must match the regular expression "
                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                        )
                    )
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        out.append(
            cause(
                f"{path}.restartPolicy",
                f'Unsupported value: "{policy}": supported values: "Always", "OnFailure", "Never"',
                "FieldValueNotSupported",
            )
        )
    return out


def qos_class(spec: dict) -> str:
    containers = spec.get("containers") or []
    requests_any = limits_all = False
    all_guaranteed = bool(containers)
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        requests_any = requests_any or bool(req) or bool(lim)
        ok = all(k in lim for k in ("cpu", "memory")) and all(
            req.get(k, lim[k]) == lim[k] for k in ("cpu", "memory") if k in lim
        )
        all_guaranteed = all_guaranteed and ok
        limits_all = limits_all or bool(lim)
    if all_guaranteed:
        return "Guaranteed"
    return "Burstable" if requests_any else "BestEffort"


def add_default_tolerations(spec: dict, not_ready_seconds: int, unreachable_seconds: int) -> None:
    """The DefaultTolerationSeconds admission plugin: tolerate `not-ready` and `unreachable`
    NoExecute for a while unless a toleration already covers them (an empty key or effect
    is a wildcard), so pods on a lost node are evicted only after that many seconds."""
    tolerations = spec.setdefault("tolerations", [])
    if not isinstance(tolerations, list):
        return  # reported by validation

    def covered(key: str) -> bool:
        return any(isinstance(t, dict) and t.get("key") in (key, "", None)
                   and t.get("effect") in ("NoExecute", "", None) for t in tolerations)

    wanted = [(NOT_READY_TAINT, not_ready_seconds), (UNREACHABLE_TAINT, unreachable_seconds)]
    missing = [(key, seconds) for key, seconds in wanted if not covered(key)]
    for key, seconds in missing:
        tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                            "tolerationSeconds": seconds})


class PodStrategy(Strategy):
    def prepare_for_create(self, obj: dict, registry: Registry) -> None:
        spec = obj.get("spec")
        obj["status"] = {"phase": "Pending"}
        if isinstance(spec, dict):
            default_pod_spec(spec)
            spec.setdefault("serviceAccountName", "default")
            spec.setdefault("serviceAccount", spec["serviceAccountName"])
            spec.setdefault("enableServiceLinks", True)
            spec.setdefault("priority", 0)
            spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
            add_default_tolerations(spec, registry.default_not_ready_toleration_seconds,
                                    registry.default_unreachable_toleration_seconds)
            obj["status"]["qosClass"] = qos_class(spec)

    def default(self, obj: dict) -> None:
        if isinstance(obj.get("spec"), dict):
            default_pod_spec(obj["spec"])

    def validate(self, obj: dict) -> list[dict]:
        return validate_pod_spec(obj.get("spec"), "spec")

    def validate_update(self, new: dict, old: dict) -> list[dict]:
        def frozen(spec: dict) -> dict:
            spec = dict(spec or {})
            for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
                spec.pop(key, None)
            for kind in ("containers", "initContainers"):
                spec[kind] = [
                    {k: v for k, v in c.items() if k not in MUTABLE_CONTAINER_FIELDS}
                    for c in spec.get(kind) or []
                    if isinstance(c, dict)
                ]
            return spec

        if frozen(new.get("spec") or {}) != frozen(old.get("spec") or {}):
            return [
                forbidden(
                    "spec",
                    "pod updates may not change fields other than `spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                    "`spec.tolerations` (only additions to existing tolerations),"
                    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                    "previously negative)",
                )
            ]
        return []

    def spec_of(self, obj: dict) -> object:
        return obj.get("spec")

    def grace_period(self, obj: dict, requested: object) -> int | None:
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        if requested is not None:
            try:
                grace = int(str(requested))
            except ValueError:
                grace = DEFAULT_GRACE
        else:
            grace = int(spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE))
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if grace < 0:
            return 1
        return grace
