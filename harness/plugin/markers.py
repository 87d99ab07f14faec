"""The markers zkdrill registers: one per drill, plus ``destructive`` and ``slow``.

The one place markers are defined (``--strict-markers`` is on): a new drill adds its marker
here, and the README's and docs/drills.md's tables.
"""

from __future__ import annotations

DRILL_MARKERS = {
    "ensemble": "create the ensemble (ordered creation, hostnames, myid, FQDNs, zoo.cfg)",
    "sanity": "write through one server, read through the others",
    "durability": "delete the StatefulSet, re-apply, data survives",
    "config": "start flags, logging, non-root",
    "process": "pkill java restarts the container",
    "liveness": "a broken probe script restarts the container",
    "readiness": "an unready server leaves the client service",
    "update": "rolling update and rollback",
    "spread": "anti-affinity spreads the servers over nodes",
    "drain": "cordon and drain against the PodDisruptionBudget",
    "leader": "kill the leader's JVM: a new leader, writes resume within one election",
    "node_failure": "a node stops: NotReady, its pod stuck Terminating, force delete, rejoin",
    "rotation": "drain every node in turn, each server back in the ensemble before the next",
    "upgrade": "a new image behind a canary partition, lowered step by step, then undone",
}
OTHER_MARKERS = {
    "destructive": "changes cluster state beyond the ensemble (nodes, templates, files)",
    "slow": "starts localkube or real processes (the quick tier is -m 'not slow')",
}
