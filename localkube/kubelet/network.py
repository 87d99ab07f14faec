"""Pod addressing shared by every kubelet of the cluster: IPAM and the list of live sandboxes.

IPAM works like the host-local CNI plugin: each node owns a /24 of the pod network
(`node-3` → `127.N.3.0/24`, the last /24 being the service network), addresses are handed
out round-robin after the last one given, and an address is only reused once the pod that
held it is completely gone (its processes dead, its sandbox removed), so a stale listener can
never answer for a new pod.

`Sandboxes` lists the pods that currently have a network identity (IP, hosts file); the DNS
updater rewrites their hosts files and is told when the list changes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass


class IPAM:
    """Pod IPs per node from the cluster's pod network, never reusing a held address."""

    def __init__(self, pod_network: str, node_names: list[str]) -> None:
        net = ipaddress.IPv4Network(pod_network)
        subnets = list(net.subnets(new_prefix=24)) if net.prefixlen <= 24 else [net]
        # /24 number 0 is left alone (gateway-like), the last one is the service network.
        usable = subnets[1:-1] if len(subnets) > 2 else subnets
        self._ranges: dict[str, ipaddress.IPv4Network] = {
            name: usable[i % len(usable)] for i, name in enumerate(node_names)
        }
        self._held: set[str] = set()
        self._last: dict[str, int] = {}

    def pod_cidr(self, node: str) -> str:
        return str(self._ranges[node])

    def allocate(self, node: str) -> str:
        hosts = list(self._ranges[node].hosts())
        start = self._last.get(node, -1) + 1
        for i in range(len(hosts)):
            idx = (start + i) % len(hosts)
            ip = str(hosts[idx])
            if ip not in self._held:
                self._held.add(ip)
                self._last[node] = idx
                return ip
        raise RuntimeError(f"no free pod address left in {self._ranges[node]} for {node}")

    def release(self, ip: str | None) -> None:
        if ip:
            self._held.discard(ip)

    def held(self, ip: str) -> bool:
        return ip in self._held


@dataclass(frozen=True)
class SandboxInfo:
    """What cluster DNS needs to know about one pod with a network identity."""

    uid: str
    namespace: str
    name: str
    ip: str
    #: rewrites the pod's hosts file (in place) with [(ip, (fqdn, ...)), ...]
    update_hosts: Callable[[Sequence[tuple[str, tuple[str, ...]]]], None]


class Sandboxes:
    """The live pod sandboxes of all nodes, with change notification."""

    def __init__(self) -> None:
        self._items: dict[str, SandboxInfo] = {}
        self._listeners: list[Callable[[], None]] = []

    def add(self, info: SandboxInfo) -> None:
        self._items[info.uid] = info
        self._notify()

    def remove(self, uid: str) -> None:
        if self._items.pop(uid, None) is not None:
            self._notify()

    def all(self) -> list[SandboxInfo]:
        return list(self._items.values())

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
