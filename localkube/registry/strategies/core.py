"""Core kinds with server-side rules: Service, PVC, PV, Node, Namespace, StorageClass."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from localkube.apimachinery.quantity import canonical_quantity
from localkube.registry.strategies.base import Strategy
from localkube.registry.validation import forbidden, invalid_value, required

if TYPE_CHECKING:
    from localkube.registry.core import Registry

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


class ServiceStrategy(Strategy):
    def prepare_for_create(self, obj: dict, registry: Registry) -> None:
        obj["status"] = {"loadBalancer": {}}
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        spec.setdefault("type", "ClusterIP")
        ip = spec.get("clusterIP")
        if ip in (None, ""):
            ip = registry.service_ips.allocate()
        elif ip != "None" and not registry.service_ips.reserve(ip):
            return  # validate() reports it
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]

    def default(self, obj: dict) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))

    def validate(self, obj: dict) -> list[dict]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [required("spec")]
        out = []
        ports = spec.get("ports") or []
        if spec.get("clusterIP") != "None" and not ports:
            out.append(required("spec.ports"))
        for i, port in enumerate(ports):
            if (
                not isinstance(port, dict)
                or not isinstance(port.get("port"), int)
                or not (0 < port["port"] < 65536)
            ):
                out.append(
                    invalid_value(
                        f"spec.ports[{i}].port",
                        (port or {}).get("port"),
                        "must be between 1 and 65535, inclusive",
                    )
                )
            elif len(ports) > 1 and not port.get("name"):
                out.append(required(f"spec.ports[{i}].name"))
        return out

    def validate_update(self, new: dict, old: dict) -> list[dict]:
        old_ip = (old.get("spec") or {}).get("clusterIP")
        new_spec = new.get("spec") or {}
        if new_spec.get("clusterIP") in (None, ""):
            new_spec["clusterIP"] = old_ip
            new_spec["clusterIPs"] = (old.get("spec") or {}).get("clusterIPs")
        if new_spec.get("clusterIP") != old_ip:
            return [forbidden("spec.clusterIPs[0]", "may not change once set")]
        return []

    def after_remove(self, obj: dict, registry: Registry) -> None:
        ip = (obj.get("spec") or {}).get("clusterIP")
        if ip and ip != "None":
            registry.service_ips.release(ip)


def _canonical_storage(spec: dict, path: tuple[str, ...]) -> None:
    node = spec
    for key in path[:-1]:
        node = node.get(key) or {}
    if isinstance(node, dict) and path[-1] in node:
        with contextlib.suppress(ValueError):
            node[path[-1]] = canonical_quantity(str(node[path[-1]]))


class PersistentVolumeClaimStrategy(Strategy):
    def prepare_for_create(self, obj: dict, registry: Registry) -> None:
        obj["status"] = {"phase": "Pending"}
        spec = obj.get("spec")
        if isinstance(spec, dict) and not spec.get("storageClassName"):
            default = registry.default_storage_class()
            if default:
                spec["storageClassName"] = default

    def default(self, obj: dict) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            spec.setdefault("volumeMode", "Filesystem")
            _canonical_storage(spec, ("resources", "requests", "storage"))

    def validate(self, obj: dict) -> list[dict]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [required("spec")]
        out = []
        if not spec.get("accessModes"):
            out.append(
                required("spec.accessModes", "Required value: at least 1 access mode is required")
            )
        if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
            out.append(required("spec.resources[storage]"))
        return out

    def validate_update(self, new: dict, old: dict) -> list[dict]:
        def frozen(spec: dict) -> dict:
            spec = dict(spec or {})
            spec.pop("resources", None)
            if not (old.get("spec") or {}).get("volumeName"):
                spec.pop("volumeName", None)
            return spec

        if frozen(new.get("spec") or {}) != frozen(old.get("spec") or {}):
            return [
                forbidden(
                    "spec",
                    "spec is immutable after creation except "
                    "resources.requests and volumeAttributesClassName for "
                    "bound claims",
                )
            ]
        return []


class PersistentVolumeStrategy(Strategy):
    def prepare_for_create(self, obj: dict, registry: Registry) -> None:
        obj["status"] = {"phase": "Pending"}

    def default(self, obj: dict) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
            spec.setdefault("volumeMode", "Filesystem")
            _canonical_storage(spec, ("capacity", "storage"))


class NodeStrategy(Strategy):
    def validate_update(self, new: dict, old: dict) -> list[dict]:
        return []


class NamespaceStrategy(Strategy):
    def prepare_for_create(self, obj: dict, registry: Registry) -> None:
        obj["status"] = {"phase": "Active"}
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]

    def extra_finalizers(self, obj: dict) -> list[str]:
        return list((obj.get("spec") or {}).get("finalizers") or [])

    def after_delete_requested(self, obj: dict, registry: Registry) -> None:
        from localkube import resources as R

        def terminating(ns: dict) -> None:
            ns.setdefault("status", {})["phase"] = "Terminating"

        registry.mutate(
            R.NAMESPACES, "", obj["metadata"]["name"], terminating, subresource="status"
        )


class StorageClassStrategy(Strategy):
    def default(self, obj: dict) -> None:
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")

    def validate(self, obj: dict) -> list[dict]:
        return [] if obj.get("provisioner") else [required("provisioner")]

    def validate_update(self, new: dict, old: dict) -> list[dict]:
        for key in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"):
            if new.get(key) != old.get(key):
                return [forbidden(key, "updates to " + key + " are forbidden.")]
        return []
