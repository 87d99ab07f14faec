"""The endpoints controller: one Endpoints object per Service that has a selector.

Readiness reaches clients through here: a pod whose Ready condition drops moves from
`addresses` to `notReadyAddresses`, so the ClusterIP proxy and DNS stop sending it traffic
(the tutorial's readiness drill). Subsets are packed as `endpoints.RepackSubsets` does (one
subset per distinct port set) and the object is written only when it would change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.selectors import LabelSelector
from localkube.controllers.base import Controller, Key
from localkube.registry.podutil import is_ready, is_terminating, labels_of, ns_name
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

HEADLESS_LABEL = "service.kubernetes.io/headless"


def _selector(service: Mapping[str, Any]) -> LabelSelector | None:
    """The service's map selector; None when the endpoints are user-managed."""
    selector = (service.get("spec") or {}).get("selector")
    return LabelSelector.from_set(selector) if selector else None


def _pod_ip(pod: Mapping[str, Any]) -> str | None:
    status = pod.get("status") or {}
    if status.get("podIP"):
        return str(status["podIP"])
    ips = status.get("podIPs") or []
    return str(ips[0]["ip"]) if ips and ips[0].get("ip") else None


def _in_endpoints(pod: Mapping[str, Any], tolerate_unready: bool) -> bool:
    """`ShouldPodBeInEndpoints`: has an IP, not terminating (unless tolerated), can still run."""
    if _pod_ip(pod) is None or (is_terminating(pod) and not tolerate_unready):
        return False
    spec, phase = pod.get("spec") or {}, (pod.get("status") or {}).get("phase")
    policy = spec.get("restartPolicy", "Always")
    if policy == "Never":
        return phase not in ("Failed", "Succeeded")
    if policy == "OnFailure":
        return phase != "Succeeded"
    return True


def _target_port(service_port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    """`podutil.FindPort`: a number as is, a name looked up among the containers' ports."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def _address(service: Mapping[str, Any], pod: Mapping[str, Any]) -> dict:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    address: dict[str, Any] = {"ip": _pod_ip(pod)}
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"]:
        address["hostname"] = spec["hostname"]
    if spec.get("nodeName"):
        address["nodeName"] = spec["nodeName"]
    address["targetRef"] = {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
                            "uid": meta["uid"]}
    return address


def _ports(service: Mapping[str, Any], pod: Mapping[str, Any]) -> list[dict]:
    """The endpoint ports this pod offers for the service's ports (unknown names skipped)."""
    out = []
    for sp in (service.get("spec") or {}).get("ports") or []:
        number = _target_port(sp, pod)
        if number is None:
            continue  # the pod lacks this named port
        port = {"name": sp["name"]} if sp.get("name") else {}
        port.update(port=number, protocol=sp.get("protocol", "TCP"))
        if sp.get("appProtocol"):
            port["appProtocol"] = sp["appProtocol"]
        out.append(port)
    return out


def desired_subsets(service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Subsets packed like `RepackSubsets`: ports sharing one address set share a subset."""
    spec = service.get("spec") or {}
    tolerate = bool(spec.get("publishNotReadyAddresses"))
    portless = spec.get("clusterIP") == "None" and not spec.get("ports")
    by_port: dict[str, tuple[dict | None, dict[tuple, tuple[str, dict]]]] = {}
    for pod in pods:
        if not _in_endpoints(pod, tolerate):
            continue
        address = _address(service, pod)
        bucket = "addresses" if tolerate or is_ready(pod) else "notReadyAddresses"
        ports: list[dict | None] = [None] if portless else list(_ports(service, pod))
        for port in ports:
            _, addresses = by_port.setdefault(json.dumps(port, sort_keys=True), (port, {}))
            addresses[(address["ip"], address["targetRef"]["uid"])] = (bucket, address)
    by_addresses: dict[frozenset, tuple[list[dict], dict[tuple, tuple[str, dict]]]] = {}
    for _, (port, addresses) in sorted(by_port.items()):
        signature = frozenset((k, b) for k, (b, _) in addresses.items())
        group_ports, _ = by_addresses.setdefault(signature, ([], addresses))
        if port is not None:
            group_ports.append(port)
    subsets = []
    for group_ports, addresses in by_addresses.values():
        subset: dict[str, Any] = {}
        for bucket in ("addresses", "notReadyAddresses"):
            items = [a for _, (b, a) in sorted(addresses.items()) if b == bucket]
            if items:
                subset[bucket] = items
        if group_ports:
            subset["ports"] = group_ports
        subsets.append(subset)
    return sorted(subsets, key=lambda s: json.dumps(s, sort_keys=True))


class EndpointsController(Controller):
    name = "endpoints"
    watches = (R.SERVICES.key, R.PODS.key, R.ENDPOINTS.key)

    def initial_keys(self) -> Iterable[Key]:
        return [(s["metadata"]["namespace"], s["metadata"]["name"])
                for s, _ in self.store.scan(R.SERVICES.key)]

    def keys_for(self, change: Change) -> Iterator[Key]:
        name = change.obj["metadata"]["name"]
        if change.resource == R.SERVICES.key or (
                change.resource == R.ENDPOINTS.key and change.type == DELETED):
            yield change.namespace, name  # a deleted Endpoints of a live Service comes back
            return
        if change.resource == R.ENDPOINTS.key:
            return
        for service, _ in self.store.scan(R.SERVICES.key, change.namespace):
            selector = _selector(service)
            if selector is not None and (selector.matches(labels_of(change.obj)) or (
                    change.old is not None and selector.matches(labels_of(change.old)))):
                yield change.namespace, service["metadata"]["name"]

    async def reconcile(self, key: Key) -> float | None:
        namespace, name = ns_name(key)
        service = self.store.peek(R.SERVICES.key, namespace, name)
        current = self.registry.try_get(R.ENDPOINTS, namespace, name)
        if service is None:
            if current is not None:
                self._ignore_gone(lambda: self.registry.delete(R.ENDPOINTS, namespace, name))
            return None
        selector = _selector(service)
        if selector is None:
            return None  # no selector: someone else manages these endpoints
        pods = [p for p, _ in self.store.scan(R.PODS.key, namespace)
                if selector.matches(labels_of(p))]
        subsets = desired_subsets(service, pods)
        labels = dict(labels_of(service))
        if (service.get("spec") or {}).get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        else:
            labels.pop(HEADLESS_LABEL, None)
        if current is None:
            body: dict[str, Any] = {"metadata": {"name": name, "labels": labels}}
            if subsets:
                body["subsets"] = subsets
            self.registry.create(R.ENDPOINTS, namespace, body)
            return None
        if (current.get("subsets") or []) == subsets and labels_of(current) == labels:
            return None
        current["metadata"]["labels"] = labels
        if subsets:
            current["subsets"] = subsets
        else:
            current.pop("subsets", None)
        self.registry.update(R.ENDPOINTS, namespace, name, current)
        return None

    @staticmethod
    def _ignore_gone(call: Any) -> None:
        try:
            call()
        except ApiError as exc:
            if exc.code != 404:
                raise


def build(cluster: Cluster) -> list[Controller]:
    return [EndpointsController(cluster.registry)]
