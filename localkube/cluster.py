"""The composition root: one store, one registry, and the components that share them.

`Cluster` bootstraps what a fresh kubeadm-like cluster has (nodes, namespaces, a default
StorageClass), then runs controllers and kubelets as asyncio tasks next to the API server.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from localkube import resources as R
from localkube.nodes.heartbeat import kubelet_conditions
from localkube.nodes.power import NodePower
from localkube.rbac import bootstrap
from localkube.registry import Registry
from localkube.store import Store

log = logging.getLogger("localkube")

KUBE_VERSION = "v1.32.0"


@dataclass(frozen=True)
class ClusterConfig:
    """What `localkube up` was asked for."""

    state_dir: Path
    nodes: int = 4
    node_cpu: str = "2"
    node_memory: str = "4Gi"
    node_pods: int = 110
    #: a /16 in 127.0.0.0/8; pods get addresses from it, services from its last /24
    subnet: str = "127.77.0.0/16"
    cluster_domain: str = "cluster.local"
    run_kubelets: bool = True
    time_scale: float = 1.0
    #: kube-controller-manager's --node-monitor-grace-period (1.32 default: 50 s)
    node_monitor_grace_period: float = 50.0
    #: kube-controller-manager's --node-monitor-period: how often node health is checked
    node_monitor_period: float = 5.0
    #: kube-controller-manager's --node-eviction-rate: nodes NoExecute-tainted per second
    node_eviction_rate: float = 0.1
    #: kube-apiserver's --default-not-ready-toleration-seconds / -unreachable- (300 each)
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    #: changes kept for watch resume; older resourceVersions get 410 Expired
    watch_history: int = 20000
    extra: dict = field(default_factory=dict)

    @property
    def pod_network(self) -> str:
        return self.subnet

    @property
    def service_network(self) -> str:
        prefix = self.subnet.split(".")
        return f"{prefix[0]}.{prefix[1]}.255.0/24"

    def node_names(self) -> list[str]:
        return [f"node-{i}" for i in range(1, self.nodes + 1)]


class Component(Protocol):
    """Anything the cluster runs: a controller, a kubelet, the DNS/proxy updater."""

    name: str

    def start(self) -> None: ...

    async def run(self) -> None: ...


ComponentFactory = Callable[["Cluster"], list[Component]]


class Cluster:
    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.store = Store(history=config.watch_history)
        self.registry = Registry(self.store, service_network=config.service_network)
        self.registry.default_not_ready_toleration_seconds = \
            config.default_not_ready_toleration_seconds
        self.registry.default_unreachable_toleration_seconds = \
            config.default_unreachable_toleration_seconds
        #: the power switch of the simulated machines (`localkube node stop|start`)
        self.power = NodePower(config.node_names())
        self.components: list[Component] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.shutdown_hooks: list[Callable[[], Awaitable[None]]] = []

    # -- bootstrap -----------------------------------------------------------------------
    def bootstrap(self) -> None:
        """Create the objects a new cluster starts with."""
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.registry.create(R.NAMESPACES, "", {"metadata": {"name": name}})
        for role in bootstrap.cluster_roles():
            self.registry.create(R.CLUSTERROLES, "", role)
        for binding in bootstrap.cluster_role_bindings():
            self.registry.create(R.CLUSTERROLEBINDINGS, "", binding)
        self.registry.create(
            R.STORAGECLASSES,
            "",
            {
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "localkube.io/hostpath",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
            },
        )
        for name in self.config.node_names():
            self.registry.create(R.NODES, "", self.node_object(name))

    def node_object(self, name: str) -> dict:
        capacity = {
            "cpu": self.config.node_cpu,
            "memory": self.config.node_memory,
            "pods": str(self.config.node_pods),
            "ephemeral-storage": "100Gi",
        }
        return {
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "beta.kubernetes.io/arch": "amd64",
                },
                "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            },
            "spec": {},
            "status": {
                "capacity": capacity,
                "allocatable": dict(capacity),
                "conditions": kubelet_conditions(time.time()),
                "addresses": [
                    {"type": "InternalIP", "address": "127.0.0.1"},
                    {"type": "Hostname", "address": name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": str(uuid.uuid4()),
                    "containerRuntimeVersion": "localkube://0.1.0",
                    "kernelVersion": platform.release(),
                    "kubeProxyVersion": KUBE_VERSION,
                    "kubeletVersion": KUBE_VERSION,
                    "machineID": uuid.uuid4().hex,
                    "operatingSystem": "linux",
                    "osImage": "localkube (" + socket.gethostname() + ")",
                    "systemUUID": str(uuid.uuid4()),
                },
            },
        }

    # -- components ----------------------------------------------------------------------
    def add(self, components: list[Component]) -> None:
        self.components.extend(components)

    def start(self) -> None:
        """Subscribe every component to the store, then run them as tasks."""
        for component in self.components:
            component.start()
        for component in self.components:
            task = asyncio.create_task(component.run(), name=component.name)
            task.add_done_callback(_report_crash)
            self._tasks.append(task)

    async def stop(self) -> None:
        """Stop components, then run shutdown hooks (kubelets kill their containers)."""
        for hook in reversed(self.shutdown_hooks):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook failed")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.store.close_all_watches()


def _report_crash(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("component %s stopped: %r", task.get_name(), exc, exc_info=exc)
