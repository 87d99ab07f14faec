"""Strategic-merge-patch schema: per-kind ``patchStrategy``/``patchMergeKey`` field tags."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class _Field:
    """Patch metadata of one field: strategy (``merge``/``replace``/``""``), the merge key of
    a list of objects, and the schema name of the nested object or list item."""

    strategy: str = ""
    key: str = ""
    elem: str | None = None


_NONE = _Field()


def _m(key: str = "", elem: str | None = None) -> _Field:
    return _Field("merge", key, elem)


def _t(elem: str) -> _Field:
    return _Field("", "", elem)


_CONDITIONS = {"conditions": _m("type")}

# Field tags transcribed from k8s.io/api (core/v1, apps/v1, batch/v1, policy/v1) and
# apimachinery's ObjectMeta: only fields with a patch strategy or leading to one are listed.
_SCHEMAS: dict[str, dict[str, _Field]] = {
    "ObjectMeta": {"ownerReferences": _m("uid"), "finalizers": _m()},
    "Object": {"metadata": _t("ObjectMeta")},
    "Container": {
        "ports": _m("containerPort"),
        "env": _m("name"),
        "volumeMounts": _m("mountPath"),
        "volumeDevices": _m("devicePath"),
    },
    "PodSpec": {
        "volumes": _m("name"),
        "initContainers": _m("name", "Container"),
        "containers": _m("name", "Container"),
        "ephemeralContainers": _m("name", "Container"),
        "imagePullSecrets": _m("name"),
        "hostAliases": _m("ip"),
        "topologySpreadConstraints": _m("topologyKey"),
        "schedulingGates": _m("name"),
        "resourceClaims": _m("name"),
    },
    "PodStatus": {
        "conditions": _m("type"),
        "hostIPs": _m("ip"),
        "podIPs": _m("ip"),
        "resourceClaimStatuses": _m("name"),
    },
    "PodTemplateSpec": {"metadata": _t("ObjectMeta"), "spec": _t("PodSpec")},
    "Pod": {"metadata": _t("ObjectMeta"), "spec": _t("PodSpec"), "status": _t("PodStatus")},
    "PodTemplate": {"metadata": _t("ObjectMeta"), "template": _t("PodTemplateSpec")},
    "PersistentVolumeClaimTemplate": {"metadata": _t("ObjectMeta")},
    "StatefulSetSpec": {
        "template": _t("PodTemplateSpec"),
        "volumeClaimTemplates": _Field("", "", "PersistentVolumeClaimTemplate"),
    },
    "StatefulSet": {
        "metadata": _t("ObjectMeta"),
        "spec": _t("StatefulSetSpec"),
        "status": _t("Conditions"),
    },
    "WorkloadSpec": {"template": _t("PodTemplateSpec")},
    "Deployment": {
        "metadata": _t("ObjectMeta"),
        "spec": _t("WorkloadSpec"),
        "status": _t("Conditions"),
    },
    "JobTemplateSpec": {"metadata": _t("ObjectMeta"), "spec": _t("WorkloadSpec")},
    "CronJob": {"metadata": _t("ObjectMeta"), "spec": _t("CronJobSpec")},
    "CronJobSpec": {"jobTemplate": _t("JobTemplateSpec")},
    "Conditions": _CONDITIONS,
    "ServiceSpec": {"ports": _m("port")},
    "Service": {
        "metadata": _t("ObjectMeta"),
        "spec": _t("ServiceSpec"),
        "status": _t("Conditions"),
    },
    "NodeSpec": {"podCIDRs": _m()},
    "NodeStatus": {"conditions": _m("type"), "addresses": _m("type")},
    "Node": {"metadata": _t("ObjectMeta"), "spec": _t("NodeSpec"), "status": _t("NodeStatus")},
    "Namespace": {"metadata": _t("ObjectMeta"), "status": _t("Conditions")},
    "PodDisruptionBudgetSpec": {"selector": _Field("replace")},
    "PodDisruptionBudget": {
        "metadata": _t("ObjectMeta"),
        "spec": _t("PodDisruptionBudgetSpec"),
        "status": _t("Conditions"),
    },
    "PersistentVolumeClaim": {"metadata": _t("ObjectMeta"), "status": _t("Conditions")},
    "ServiceAccount": {
        "metadata": _t("ObjectMeta"),
        "secrets": _m("name"),
        "imagePullSecrets": _m("name"),
    },
}
_KIND_ALIASES: dict[str, str] = {
    "ReplicaSet": "Deployment",
    "DaemonSet": "Deployment",
    "Job": "Deployment",
    "ReplicationController": "Deployment",
}
_RESOURCES: dict[str, str] = {
    "pods": "Pod",
    "podtemplates": "PodTemplate",
    "statefulsets": "StatefulSet",
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "daemonsets": "DaemonSet",
    "jobs": "Job",
    "cronjobs": "CronJob",
    "replicationcontrollers": "ReplicationController",
    "services": "Service",
    "nodes": "Node",
    "namespaces": "Namespace",
    "poddisruptionbudgets": "PodDisruptionBudget",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "serviceaccounts": "ServiceAccount",
}


def schema_for(hint: str | None) -> str:
    """Resolve a kind (``StatefulSet``), resource (``statefulsets``, ``statefulsets.apps``)
    or schema name to the schema used for strategic merges; unknown → metadata-only."""
    if not hint:
        return "Object"
    if hint in _SCHEMAS:
        return hint
    if hint in _KIND_ALIASES:
        return _KIND_ALIASES[hint]
    resource = hint.split("/")[0].split(".")[0].lower()
    kind = _RESOURCES.get(resource)
    if kind is None:
        kind = next((k for k in (*_SCHEMAS, *_KIND_ALIASES) if k.lower() == resource), None)
    if kind is None:
        return "Object"
    return _KIND_ALIASES.get(kind, kind)


def _field(schema: str | None, key: str) -> _Field:
    if schema is None:
        return _NONE
    return _SCHEMAS.get(schema, {}).get(key, _NONE)
