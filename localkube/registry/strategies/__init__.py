"""Per-kind API strategies; `strategy_for(resource)` picks one."""

from __future__ import annotations

from localkube.registry.strategies.base import Strategy
from localkube.registry.strategies.coordination import LeaseStrategy
from localkube.registry.strategies.core import (
    NamespaceStrategy,
    NodeStrategy,
    PersistentVolumeClaimStrategy,
    PersistentVolumeStrategy,
    ServiceStrategy,
    StorageClassStrategy,
)
from localkube.registry.strategies.pods import PodStrategy
from localkube.registry.strategies.rbac import (
    ClusterRoleBindingStrategy,
    ClusterRoleStrategy,
    RoleBindingStrategy,
    RoleStrategy,
)
from localkube.registry.strategies.workloads import (
    ControllerRevisionStrategy,
    PodDisruptionBudgetStrategy,
    StatefulSetStrategy,
)
from localkube.resources import Resource

_BY_KIND: dict[str, Strategy] = {
    "Pod": PodStrategy(),
    "StatefulSet": StatefulSetStrategy(),
    "ControllerRevision": ControllerRevisionStrategy(),
    "PodDisruptionBudget": PodDisruptionBudgetStrategy(),
    "Service": ServiceStrategy(),
    "PersistentVolumeClaim": PersistentVolumeClaimStrategy(),
    "PersistentVolume": PersistentVolumeStrategy(),
    "Node": NodeStrategy(),
    "Namespace": NamespaceStrategy(),
    "StorageClass": StorageClassStrategy(),
    "Lease": LeaseStrategy(),
    "Role": RoleStrategy(),
    "ClusterRole": ClusterRoleStrategy(),
    "RoleBinding": RoleBindingStrategy(),
    "ClusterRoleBinding": ClusterRoleBindingStrategy(),
}
_DEFAULT = Strategy()


def strategy_for(res: Resource) -> Strategy:
    return _BY_KIND.get(res.kind, _DEFAULT)


__all__ = ["Strategy", "strategy_for"]
