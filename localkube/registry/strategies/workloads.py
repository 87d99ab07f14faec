"""StatefulSets, ControllerRevisions and PodDisruptionBudgets (apps/v1, policy/v1)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from localkube.apimachinery.quantity import canonical_quantity
from localkube.apimachinery.selectors import LabelSelector
from localkube.registry.strategies.base import Strategy
from localkube.registry.strategies.pods import default_pod_spec, validate_pod_spec
from localkube.registry.validation import forbidden, invalid_value, required, validate_labels

if TYPE_CHECKING:
    from localkube.registry.core import Registry

STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
    "revisionHistoryLimit",
)


def _selector_causes(field: str, selector: object, *, allow_empty: bool) -> list[dict]:
    if selector is None:
        return [] if allow_empty else [required(field)]
    if not isinstance(selector, dict):
        return [invalid_value(field, selector, "must be a label selector")]
    if not allow_empty and not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return [invalid_value(field, "{}", "empty selector is invalid for statefulset")]
    try:
        LabelSelector.from_dict(selector)
    except ValueError as exc:
        return [invalid_value(field, selector, str(exc))]
    out = validate_labels(f"{field}.matchLabels", selector.get("matchLabels"))
    return out


class StatefulSetStrategy(Strategy):
    def prepare_for_create(self, obj: dict, registry: Registry) -> None:
        obj["status"] = {"replicas": 0, "availableReplicas": 0}

    def default(self, obj: dict) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy",
            {"whenDeleted": "Retain", "whenScaled": "Retain"},
        )
        strategy = spec.setdefault("updateStrategy", {})
        if isinstance(strategy, dict):
            if not strategy.get("type"):
                strategy["type"] = "RollingUpdate"
                strategy.setdefault("rollingUpdate", {"partition": 0})
            elif strategy["type"] == "RollingUpdate" and isinstance(
                strategy.get("rollingUpdate"), dict
            ):
                strategy["rollingUpdate"].setdefault("partition", 0)
        template = spec.get("template")
        if isinstance(template, dict):
            template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
            if isinstance(template.get("spec"), dict):
                default_pod_spec(template["spec"])
        for claim in spec.get("volumeClaimTemplates") or []:
            if not isinstance(claim, dict):
                continue
            claim.setdefault("apiVersion", "v1")
            claim.setdefault("kind", "PersistentVolumeClaim")
            claim.setdefault("metadata", {}).setdefault("creationTimestamp", None)
            claim_spec = claim.setdefault("spec", {})
            claim_spec.setdefault("volumeMode", "Filesystem")
            _canonical_storage(claim_spec)
            claim.setdefault("status", {"phase": "Pending"})

    def validate(self, obj: dict) -> list[dict]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [required("spec")]
        out = _selector_causes("spec.selector", spec.get("selector"), allow_empty=False)
        template = spec.get("template")
        if not isinstance(template, dict):
            return [*out, required("spec.template")]
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not out:
            selector = LabelSelector.from_dict(spec["selector"])
            if not selector.matches(labels):
                out.append(
                    invalid_value(
                        "spec.template.metadata.labels",
                        labels,
                        "`selector` does not match template `labels`",
                    )
                )
        replicas = spec.get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            out.append(
                invalid_value("spec.replicas", replicas, "must be greater than or equal to 0")
            )
        policy = spec.get("podManagementPolicy")
        if policy not in ("OrderedReady", "Parallel"):
            out.append(
                invalid_value(
                    "spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"
                )
            )
        update = spec.get("updateStrategy") or {}
        if update.get("type") not in ("RollingUpdate", "OnDelete"):
            out.append(
                invalid_value(
                    "spec.updateStrategy.type",
                    update.get("type"),
                    "must be 'RollingUpdate' or 'OnDelete'",
                )
            )
        if template.get("spec", {}).get("restartPolicy", "Always") != "Always":
            out.append(
                invalid_value(
                    "spec.template.spec.restartPolicy",
                    template["spec"]["restartPolicy"],
                    'supported values: "Always"',
                )
            )
        return out + validate_pod_spec(template.get("spec"), "spec.template.spec")

    def validate_update(self, new: dict, old: dict) -> list[dict]:
        def frozen(spec: dict) -> dict:
            return {k: v for k, v in (spec or {}).items() if k not in STS_MUTABLE}

        if frozen(new.get("spec") or {}) != frozen(old.get("spec") or {}):
            return [
                forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden",
                )
            ]
        return []


def _canonical_storage(claim_spec: dict) -> None:
    requests = (claim_spec.get("resources") or {}).get("requests")
    if isinstance(requests, dict) and "storage" in requests:
        with contextlib.suppress(ValueError):
            requests["storage"] = canonical_quantity(str(requests["storage"]))


class ControllerRevisionStrategy(Strategy):
    def validate(self, obj: dict) -> list[dict]:
        if not isinstance(obj.get("revision"), int):
            return [required("revision")]
        return []

    def validate_update(self, new: dict, old: dict) -> list[dict]:
        if new.get("data") != old.get("data"):
            return [forbidden("data", "field is immutable")]
        return []

    def spec_of(self, obj: dict) -> object:
        return obj.get("data")


class PodDisruptionBudgetStrategy(Strategy):
    def prepare_for_create(self, obj: dict, registry: Registry) -> None:
        obj["status"] = {
            "disruptionsAllowed": 0,
            "currentHealthy": 0,
            "desiredHealthy": 0,
            "expectedPods": 0,
        }

    def validate(self, obj: dict) -> list[dict]:
        spec = obj.get("spec") or {}
        out = _selector_causes("spec.selector", spec.get("selector"), allow_empty=True)
        if "minAvailable" in spec and "maxUnavailable" in spec:
            out.append(
                invalid_value("spec", spec, "minAvailable and maxUnavailable cannot be both set")
            )
        for key in ("minAvailable", "maxUnavailable"):
            value = spec.get(key)
            if value is None:
                continue
            if isinstance(value, int):
                if value < 0:
                    out.append(
                        invalid_value(f"spec.{key}", value, "must be greater than or equal to 0")
                    )
            elif not (isinstance(value, str) and value.endswith("%") and value[:-1].isdigit()):
                out.append(
                    invalid_value(
                        f"spec.{key}",
                        value,
                        "a valid percent string must be a numeric string followed by an ending '%'",
                    )
                )
        return out
