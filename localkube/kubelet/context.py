"""What every pod worker of a node shares: the API, addressing, DNS, the container index."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from localkube.kubelet.dns import ClusterDNS
from localkube.kubelet.index import ContainerIndex
from localkube.kubelet.network import IPAM, Sandboxes
from localkube.registry import Registry

COMPONENT = "kubelet"


@dataclass
class NodeContext:
    """One node's view of the cluster services a kubelet needs."""

    node: str
    registry: Registry
    ipam: IPAM
    sandboxes: Sandboxes
    dns: ClusterDNS
    index: ContainerIndex
    pods_dir: Path
    cache_dir: Path | None
    cluster_domain: str
    host_ip: str = "127.0.0.1"
    #: upper bound on grace periods while localkube shuts down
    shutdown_grace: float | None = None
    clock: object = field(default=time.time)

    def now(self) -> float:
        return float(self.clock())  # type: ignore[operator]

    def event(self, pod: dict, kind: str, reason: str, message: str) -> None:
        """An event about the pod from this node's kubelet (best effort, as client-go's)."""
        self.registry.record_event(pod, kind, reason, message, COMPONENT, self.node)
