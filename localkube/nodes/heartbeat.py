"""The kubelet's two health signals: the node Lease and the node status.

A real kubelet renews `kube-node-lease/<node>` every 10 s (a quarter of its 40 s lease)
and posts node status when it changed, or every 5 min (`nodeStatusReportFrequency`). The
node lifecycle controller reads both; when neither moves for `--node-monitor-grace-period`
the node becomes Unknown. This component does that for every simulated machine that is
switched on, under `up --no-kubelets` too, so nodes stay Ready until one is stopped.

With a small grace period (CI runs) the renewal interval shrinks to a quarter of it, since
a 10 s renewal could never beat a 3 s grace period; with the 1.32 default (50 s) it is 10 s.
After a power-on the first beat comes at once and posts the kubelet's conditions again
(Ready=True), with a new boot id and the `Starting`/`Rebooted`/`NodeReady` events.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.meta import format_micro_time, format_time
from localkube.nodes.power import NodePower
from localkube.registry import Registry

log = logging.getLogger("localkube.nodes")

LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40
RENEW_INTERVAL = 10.0
REPORT_FREQUENCY = 300.0
COMPONENT = "kubelet"

#: (type, status, reason, message) a healthy kubelet reports, in its order
KUBELET_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory",
     "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def heartbeat_interval(grace_period: float) -> float:
    """How often a node renews its lease: 10 s, or a quarter of a smaller grace period."""
    return max(0.05, min(RENEW_INTERVAL, grace_period / 4))


def kubelet_conditions(now: float) -> list[dict]:
    """The node conditions of a healthy kubelet, stamped `now`."""
    stamp = format_time(now)
    return [{"type": kind, "status": status, "reason": reason, "message": message,
             "lastHeartbeatTime": stamp, "lastTransitionTime": stamp}
            for kind, status, reason, message in KUBELET_CONDITIONS]


class NodeHeartbeat:
    """Lease renewals and node status posts for every machine that is switched on."""

    name = "node-heartbeat"

    def __init__(self, registry: Registry, power: NodePower, interval: float,
                 clock: Callable[[], float] | None = None) -> None:
        self.registry = registry
        self.power = power
        self.interval = interval
        self.clock = clock or registry.clock
        self._last_report: dict[str, float] = {}
        self._booted: set[str] = set()

    def start(self) -> None:
        self.power.listen(self)

    async def run(self) -> None:
        while True:
            for node in self.power.nodes:
                if self.power.is_on(node):
                    self.beat(node)
            await asyncio.sleep(self.interval)

    async def power_off(self, node: str) -> None:
        """Nothing to undo: the next beats simply do not happen."""

    async def power_on(self, node: str) -> None:
        self._booted.add(node)
        self.beat(node)

    def beat(self, node: str) -> None:
        try:
            self._renew_lease(node)
            self._post_status(node)
        except ApiError as exc:  # the node object was deleted, or a conflict: next beat
            log.debug("heartbeat of %s failed: %s", node, exc)

    def _renew_lease(self, node: str) -> None:
        now = format_micro_time(self.clock())

        def renew(lease: dict) -> None:
            spec = lease.setdefault("spec", {})
            spec["holderIdentity"] = node
            spec["leaseDurationSeconds"] = LEASE_DURATION
            spec["renewTime"] = now

        if self.registry.mutate(R.LEASES, LEASE_NAMESPACE, node, renew) is not None:
            return
        owner = self.registry.try_get(R.NODES, "", node)
        if owner is None:
            return
        lease = {"metadata": {"name": node, "namespace": LEASE_NAMESPACE, "ownerReferences": [
            {"apiVersion": "v1", "kind": "Node", "name": node,
             "uid": owner["metadata"]["uid"]}]}, "spec": {}}
        renew(lease)
        self.registry.create(R.LEASES, LEASE_NAMESPACE, lease)

    def _post_status(self, node: str) -> None:
        now = self.clock()
        rebooted = node in self._booted
        due = now - self._last_report.get(node, now) >= REPORT_FREQUENCY
        became_ready = False

        def post(obj: dict) -> bool:
            nonlocal became_ready
            status = obj.setdefault("status", {})
            current = {c.get("type"): c for c in status.get("conditions") or []}
            wanted = kubelet_conditions(now)
            changed = rebooted or due
            for cond in wanted:
                old = current.get(cond["type"])
                if old is not None and old.get("status") == cond["status"]:
                    cond["lastTransitionTime"] = old.get("lastTransitionTime",
                                                         cond["lastTransitionTime"])
                if old is None or any(old.get(k) != cond[k] for k in ("status", "reason",
                                                                       "message")):
                    changed = True
                    became_ready = became_ready or (cond["type"] == "Ready")
            if not changed:
                return False
            others = [c for t, c in current.items() if t not in {w["type"] for w in wanted}]
            status["conditions"] = others + wanted
            if rebooted:
                status.setdefault("nodeInfo", {})["bootID"] = str(uuid.uuid4())
            return True

        self._last_report.setdefault(node, now)
        before = self.registry.try_get(R.NODES, "", node)
        updated = self.registry.mutate(R.NODES, "", node, post, subresource="status")
        if updated is None or before is None:
            return
        if updated["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]:
            self._last_report[node] = now
        if rebooted:
            self._booted.discard(node)
            boot_id = updated["status"].get("nodeInfo", {}).get("bootID", "")
            self._event(updated, "Normal", "Starting", "Starting kubelet.")
            self._event(updated, "Warning", "Rebooted",
                        f"Node {node} has been rebooted, boot id: {boot_id}")
        if became_ready:
            self._event(updated, "Normal", "NodeReady", f"Node {node} status is now: NodeReady")

    def _event(self, node: dict, kind: str, reason: str, message: str) -> None:
        name = node["metadata"]["name"]
        self.registry.record_event(node, kind, reason, message, COMPONENT, name)
