"""The node side of localkube: kubelets, cluster DNS and the service proxy.

`build_kubelets(cluster)` returns the components to add to a `Cluster`:

- one `Kubelet` per node (`cluster.config.node_names()`), running the pods bound to it
  as real processes through `localkube.runtime` (see `kubelet.py`, `pod.py`);
- one `ClusterDNS`, keeping every pod's hosts file in line with the records CoreDNS would
  serve (see `dns.py` for what is published and when);
- one `ServiceProxy`, listening on each ClusterIP:port and forwarding to ready endpoints.

It also sets `cluster.containers` (a `ContainerIndex`, see `index.py`) for the API
server's exec/log/port-forward handlers, and registers a shutdown hook that stops every
container (each pod's grace period, at most `SHUTDOWN_GRACE` seconds), removes the
sandboxes and closes the proxy's listeners, so nothing outlives localkube.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from localkube.kubelet.context import NodeContext
from localkube.kubelet.dns import ClusterDNS
from localkube.kubelet.index import ContainerHandle, ContainerIndex
from localkube.kubelet.kubelet import Kubelet
from localkube.kubelet.network import IPAM, Sandboxes
from localkube.kubelet.proxy import ServiceProxy

if TYPE_CHECKING:
    from localkube.cluster import Cluster, Component

SHUTDOWN_GRACE = 5.0

__all__ = ["SHUTDOWN_GRACE", "ContainerHandle", "ContainerIndex", "Kubelet", "build_kubelets"]


def build_kubelets(cluster: Cluster) -> list[Component]:
    """Kubelets for every node plus cluster DNS and the service proxy."""
    config = cluster.config
    names = config.node_names()
    ipam = IPAM(config.pod_network, names)
    sandboxes = Sandboxes()
    dns = ClusterDNS(cluster.registry, sandboxes, config.cluster_domain)
    index = ContainerIndex()
    cluster.containers = index  # type: ignore[attr-defined]
    cache = config.extra.get("cache_dir")
    kubelets = [
        Kubelet(NodeContext(
            node=name, registry=cluster.registry, ipam=ipam, sandboxes=sandboxes, dns=dns,
            index=index, pods_dir=Path(config.state_dir) / "kubelet" / name / "pods",
            cache_dir=Path(cache) if cache else None, cluster_domain=config.cluster_domain,
        ))
        for name in names
    ]
    for kubelet in kubelets:
        cluster.power.listen(kubelet)
    proxy = ServiceProxy(cluster.registry)
    grace = float(config.extra.get("shutdown_grace", SHUTDOWN_GRACE))

    async def stop_node_side() -> None:
        await asyncio.gather(*(k.shutdown(grace) for k in kubelets))
        await proxy.close()

    cluster.shutdown_hooks.append(stop_node_side)
    return [*kubelets, dns, proxy]
