"""The simulated machines behind the Node objects: their power switch and their heartbeat.

Kept apart from `localkube.kubelet` (which loads the container runtime) because both also
run under `up --no-kubelets`: the node lifecycle controller needs heartbeats to keep nodes
Ready, and `localkube node stop/start` must work on a control-plane-only cluster too.

- `power.py`: `NodePower`, which machines are switched off; kubelets and heartbeats listen.
- `heartbeat.py`: `NodeHeartbeat`, the kubelet's Lease renewal and node status posting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localkube.nodes.heartbeat import NodeHeartbeat, heartbeat_interval
from localkube.nodes.power import NodePower, PowerListener, UnknownNode

if TYPE_CHECKING:
    from localkube.cluster import Cluster, Component

__all__ = ["NodeHeartbeat", "NodePower", "PowerListener", "UnknownNode", "build",
           "heartbeat_interval"]


def build(cluster: Cluster) -> list[Component]:
    """The heartbeat of every simulated node (kubelets or not)."""
    interval = heartbeat_interval(cluster.config.node_monitor_grace_period)
    return [NodeHeartbeat(cluster.registry, cluster.power, interval)]
