"""Controllers that run inside `localkube up`, built in the order they should start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localkube.cluster import Cluster, Component


def build_controllers(cluster: Cluster) -> list[Component]:
    """Every control-plane controller, each subscribed to the shared store."""
    from localkube.controllers import (
        disruption,
        endpoints,
        gc,
        namespace,
        nodehealth,
        nodelifecycle,
        scheduler,
        serviceaccounts,
        statefulset,
        tainteviction,
        volumes,
    )

    components: list[Component] = []
    for module in (nodelifecycle, nodehealth, tainteviction, namespace, serviceaccounts, volumes,
                   scheduler, statefulset, gc, disruption, endpoints):
        components.extend(module.build(cluster))
    return components
