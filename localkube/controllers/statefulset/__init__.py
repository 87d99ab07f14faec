"""The StatefulSet controller (apps/v1), split as Kubernetes splits it.

``identity`` (names, ordinals, labels), ``revisions`` (ControllerRevision data and hashing),
``pods`` and ``claims`` (what a member and its PVCs look like), ``ownership`` (adoption),
``podcontrol`` (writes + events), ``control`` (one reconcile pass), ``status`` and
``controller`` (event wiring). ``build(cluster)`` is what ``build_controllers`` calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localkube.controllers.statefulset.controller import StatefulSetController

if TYPE_CHECKING:
    from localkube.cluster import Cluster


def build(cluster: Cluster) -> list[StatefulSetController]:
    return [StatefulSetController(cluster.registry)]


__all__ = ["StatefulSetController", "build"]
