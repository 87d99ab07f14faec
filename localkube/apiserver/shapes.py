"""JSON shape checks that stand in for Go's typed decoding.

kube-apiserver decodes a body into Go structs before anything else looks at it, so a string
where a list belongs is a 400 (`... cannot unmarshal string into Go struct field PodSpec.spec.
containers of type []v1.Container`), never a crash deeper down. These tables give the JSON
type of the fields of the served kinds that localkube's registry reads; unknown fields pass
(as with non-strict decoding) and `null` always passes (Go leaves the zero value).

Types: "s" string, "i" integer, "b" bool, "q" quantity (string or number), "is" int-or-string,
"any"; a dict is an object with those fields; a 1-list `[t]` a list of t; `{"*": t}` a map.
"""

from __future__ import annotations

from typing import Any

from localkube.apimachinery.errors import ApiError, bad_request

STRINGS = {"*": "s"}
QUANTITIES = {"*": "q"}
SELECTOR = {"matchLabels": STRINGS,
            "matchExpressions": [{"key": "s", "operator": "s", "values": ["s"]}]}
OWNER = {"apiVersion": "s", "kind": "s", "name": "s", "uid": "s", "controller": "b",
         "blockOwnerDeletion": "b"}
META = {"name": "s", "generateName": "s", "namespace": "s", "uid": "s", "resourceVersion": "s",
        "generation": "i", "creationTimestamp": "s", "deletionTimestamp": "s",
        "deletionGracePeriodSeconds": "i", "labels": STRINGS, "annotations": STRINGS,
        "finalizers": ["s"], "ownerReferences": [OWNER], "managedFields": [{}]}
PROBE = {"exec": {"command": ["s"]}, "httpGet": {"path": "s", "port": "is", "host": "s"},
         "tcpSocket": {"port": "is"}, "initialDelaySeconds": "i", "timeoutSeconds": "i",
         "periodSeconds": "i", "successThreshold": "i", "failureThreshold": "i",
         "terminationGracePeriodSeconds": "i"}
CONTAINER = {
    "name": "s", "image": "s", "command": ["s"], "args": ["s"], "workingDir": "s",
    "ports": [{"name": "s", "containerPort": "i", "hostPort": "i", "protocol": "s"}],
    "env": [{"name": "s", "value": "s", "valueFrom": {}}],
    "resources": {"requests": QUANTITIES, "limits": QUANTITIES},
    "volumeMounts": [{"name": "s", "mountPath": "s", "readOnly": "b", "subPath": "s"}],
    "livenessProbe": PROBE, "readinessProbe": PROBE, "startupProbe": PROBE,
    "lifecycle": {"preStop": {"exec": {"command": ["s"]}}, "postStart": {"exec": {
        "command": ["s"]}}},
    "imagePullPolicy": "s", "securityContext": {"runAsUser": "i", "runAsGroup": "i",
                                                "runAsNonRoot": "b", "privileged": "b"},
    "restartPolicy": "s", "stdin": "b", "tty": "b", "terminationMessagePath": "s",
}
AFFINITY_TERM = {"labelSelector": SELECTOR, "topologyKey": "s", "namespaces": ["s"],
                 "namespaceSelector": SELECTOR}
POD_AFFINITY = {"requiredDuringSchedulingIgnoredDuringExecution": [AFFINITY_TERM],
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": "i", "podAffinityTerm": AFFINITY_TERM}]}
NODE_TERM = {"matchExpressions": [{"key": "s", "operator": "s", "values": ["s"]}],
             "matchFields": [{"key": "s", "operator": "s", "values": ["s"]}]}
POD_SPEC = {
    "containers": [CONTAINER], "initContainers": [CONTAINER],
    "volumes": [{"name": "s", "persistentVolumeClaim": {"claimName": "s", "readOnly": "b"},
                 "emptyDir": {"medium": "s", "sizeLimit": "q"}, "hostPath": {"path": "s"},
                 "configMap": {"name": "s", "items": [{"key": "s", "path": "s"}]},
                 "secret": {"secretName": "s"}}],
    "nodeName": "s", "nodeSelector": STRINGS, "hostname": "s", "subdomain": "s",
    "affinity": {"podAffinity": POD_AFFINITY, "podAntiAffinity": POD_AFFINITY,
                 "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                     "nodeSelectorTerms": [NODE_TERM]}}},
    "tolerations": [{"key": "s", "operator": "s", "value": "s", "effect": "s",
                     "tolerationSeconds": "i"}],
    "securityContext": {"runAsUser": "i", "runAsGroup": "i", "fsGroup": "i",
                        "runAsNonRoot": "b", "supplementalGroups": ["i"]},
    "restartPolicy": "s", "terminationGracePeriodSeconds": "i", "activeDeadlineSeconds": "i",
    "dnsPolicy": "s", "schedulerName": "s", "serviceAccountName": "s", "hostNetwork": "b",
    "priority": "i", "priorityClassName": "s", "readinessGates": [{"conditionType": "s"}],
}
CONDITIONS = [{"type": "s", "status": "s", "reason": "s", "message": "s"}]
CONTAINER_STATUS = {"name": "s", "image": "s", "imageID": "s", "containerID": "s", "ready": "b",
                    "started": "b", "restartCount": "i", "state": {}, "lastState": {}}
POD_STATUS = {"phase": "s", "conditions": CONDITIONS, "hostIP": "s", "podIP": "s",
              "podIPs": [{"ip": "s"}], "hostIPs": [{"ip": "s"}], "startTime": "s",
              "containerStatuses": [CONTAINER_STATUS], "initContainerStatuses": [
                  CONTAINER_STATUS], "qosClass": "s", "reason": "s", "message": "s",
              "nominatedNodeName": "s"}
PVC_SPEC = {"accessModes": ["s"], "resources": {"requests": QUANTITIES, "limits": QUANTITIES},
            "storageClassName": "s", "volumeName": "s", "volumeMode": "s", "selector": SELECTOR}
TEMPLATE = {"metadata": META, "spec": POD_SPEC}
SPEC_STATUS: dict[str, dict] = {
    "Pod": {"spec": POD_SPEC, "status": POD_STATUS},
    "StatefulSet": {
        "spec": {"replicas": "i", "selector": SELECTOR, "serviceName": "s", "template": TEMPLATE,
                 "volumeClaimTemplates": [{"metadata": META, "spec": PVC_SPEC}],
                 "updateStrategy": {"type": "s", "rollingUpdate": {"partition": "i",
                                                                   "maxUnavailable": "is"}},
                 "podManagementPolicy": "s", "revisionHistoryLimit": "i", "minReadySeconds": "i",
                 "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "s", "whenScaled": "s"},
                 "ordinals": {"start": "i"}},
        "status": {"observedGeneration": "i", "replicas": "i", "readyReplicas": "i",
                   "currentReplicas": "i", "updatedReplicas": "i", "availableReplicas": "i",
                   "currentRevision": "s", "updateRevision": "s", "collisionCount": "i",
                   "conditions": CONDITIONS}},
    "PodDisruptionBudget": {
        "spec": {"minAvailable": "is", "maxUnavailable": "is", "selector": SELECTOR,
                 "unhealthyPodEvictionPolicy": "s"},
        "status": {"observedGeneration": "i", "disruptionsAllowed": "i", "currentHealthy": "i",
                   "desiredHealthy": "i", "expectedPods": "i", "disruptedPods": STRINGS,
                   "conditions": CONDITIONS}},
    "Service": {"spec": {"ports": [{"name": "s", "port": "i", "targetPort": "is",
                                    "protocol": "s", "nodePort": "i"}],
                         "selector": STRINGS, "clusterIP": "s", "clusterIPs": ["s"], "type": "s",
                         "publishNotReadyAddresses": "b", "sessionAffinity": "s"}},
    "PersistentVolumeClaim": {"spec": PVC_SPEC, "status": {
        "phase": "s", "capacity": QUANTITIES, "accessModes": ["s"]}},
    "PersistentVolume": {"spec": {"capacity": QUANTITIES, "accessModes": ["s"],
                                  "hostPath": {"path": "s"}, "claimRef": {},
                                  "persistentVolumeReclaimPolicy": "s",
                                  "storageClassName": "s", "volumeMode": "s"},
                         "status": {"phase": "s"}},
    "Node": {"spec": {"unschedulable": "b", "taints": [{"key": "s", "value": "s", "effect": "s",
                                                        "timeAdded": "s"}], "podCIDR": "s"},
             "status": {"capacity": QUANTITIES, "allocatable": QUANTITIES,
                        "conditions": CONDITIONS, "addresses": [{"type": "s", "address": "s"}],
                        "nodeInfo": STRINGS}},
    "Namespace": {"spec": {"finalizers": ["s"]}, "status": {"phase": "s"}},
    "ConfigMap": {"data": STRINGS, "binaryData": STRINGS, "immutable": "b"},
    "Event": {"involvedObject": {}, "reason": "s", "message": "s", "type": "s", "count": "i",
              "source": {"component": "s", "host": "s"}},
    "Endpoints": {"subsets": [{"addresses": [{"ip": "s", "hostname": "s", "nodeName": "s"}],
                               "notReadyAddresses": [{"ip": "s"}],
                               "ports": [{"name": "s", "port": "i", "protocol": "s"}]}]},
    "ControllerRevision": {"data": "any", "revision": "i"},
    "StorageClass": {"provisioner": "s", "parameters": STRINGS, "reclaimPolicy": "s",
                     "volumeBindingMode": "s"},
    "Scale": {"spec": {"replicas": "i"}},
    "Binding": {"target": {"kind": "s", "name": "s", "namespace": "s", "apiVersion": "s"}},
}
DELETE_OPTIONS = {"gracePeriodSeconds": "i", "propagationPolicy": "s", "orphanDependents": "b",
                  "dryRun": ["s"], "preconditions": {"uid": "s", "resourceVersion": "s"}}
SPEC_STATUS["Eviction"] = {"deleteOptions": DELETE_OPTIONS}
_RULES = {"rules": [{"verbs": ["s"], "apiGroups": ["s"], "resources": ["s"],
                     "resourceNames": ["s"], "nonResourceURLs": ["s"]}]}
_BINDING = {"subjects": [{"kind": "s", "apiGroup": "s", "name": "s", "namespace": "s"}],
            "roleRef": {"apiGroup": "s", "kind": "s", "name": "s"}}
_ATTRIBUTES = {"namespace": "s", "verb": "s", "group": "s", "version": "s", "resource": "s",
               "subresource": "s", "name": "s", "path": "s"}
SPEC_STATUS.update({
    "Role": _RULES, "ClusterRole": _RULES, "RoleBinding": _BINDING,
    "ClusterRoleBinding": _BINDING,
    "ServiceAccount": {"automountServiceAccountToken": "b",
                       "secrets": [{"name": "s", "namespace": "s"}],
                       "imagePullSecrets": [{"name": "s"}]},
    "Lease": {"spec": {"holderIdentity": "s", "leaseDurationSeconds": "i", "acquireTime": "s",
                       "renewTime": "s", "leaseTransitions": "i", "strategy": "s",
                       "preferredHolder": "s"}},
    "TokenRequest": {"spec": {"audiences": ["s"], "expirationSeconds": "i",
                              "boundObjectRef": {"kind": "s", "apiVersion": "s", "name": "s",
                                                 "uid": "s"}}},
    "SelfSubjectAccessReview": {"spec": {"resourceAttributes": _ATTRIBUTES,
                                         "nonResourceAttributes": _ATTRIBUTES}},
})
_GO = {"s": "string", "i": "int64", "b": "bool", "q": "resource.Quantity",
       "is": "intstr.IntOrString"}


def check(kind: str, version: str, obj: Any) -> None:
    """Raise 400 when `obj` cannot be decoded as `kind` (an object of the right shape)."""
    schema = {"apiVersion": "s", "kind": "s", "metadata": META, **SPEC_STATUS.get(kind, {})}
    problem = _problem(obj, schema, "")
    if problem:
        raise _error(kind, version, *problem)


def check_delete_options(obj: Any) -> None:
    problem = _problem(obj, {"kind": "s", "apiVersion": "s", **DELETE_OPTIONS}, "")
    if problem:
        raise _error("DeleteOptions", "meta.k8s.io/v1", *problem)


def _error(kind: str, version: str, path: str, got: str, want: str) -> ApiError:
    field = f" into Go struct field {path}" if path else ""
    return bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: json: '
                       f"cannot unmarshal {got}{field} of type {want}")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _problem(value: Any, schema: Any, path: str) -> tuple[str, str, str] | None:
    """(path, JSON type found, Go type wanted) of the first mismatch, or None."""
    if value is None or schema == "any":
        return None
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return path, _json_type(value), "object"
        inner = schema.get("*")
        for key, item in value.items():
            sub = inner if inner is not None else schema.get(key)
            if sub is not None:
                found = _problem(item, sub, f"{path}.{key}" if path else key)
                if found:
                    return found
        return None
    if isinstance(schema, list):
        if not isinstance(value, list):
            return path, _json_type(value), "[]" + _go_name(schema[0])
        for item in value:
            found = _problem(item, schema[0], path)
            if found:
                return found
        return None
    if _fits(value, schema):
        return None
    return path, _json_type(value), _GO[schema]


def _fits(value: Any, t: str) -> bool:
    if t == "s":
        return isinstance(value, str)
    if t == "b":
        return isinstance(value, bool)
    if t == "i":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "q":
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    if t == "is":
        return isinstance(value, str | int) and not isinstance(value, bool)
    return True


def _go_name(schema: Any) -> str:
    if isinstance(schema, str):
        return _GO.get(schema, "interface {}")
    if isinstance(schema, list):
        return "[]" + _go_name(schema[0])
    return "map[string]interface {}" if "*" in schema else "struct"
