"""Run ownership: one ``coordination.k8s.io/v1`` Lease per run, renewed while the run lives.

Why a Lease and not host + pid: two machines (a laptop and a CI runner) may drill the same
namespace; a pid means nothing on the other machine. The Lease ``zkdrill-run-<run id>`` in the
drill namespace (holderIdentity = run id, labelled ``app.kubernetes.io/managed-by=zkdrill``)
is created before the run's first journal entry, renewed by a daemon thread every
``renew_every`` seconds, and deleted when the run ends. A run killed with SIGKILL stops
renewing: once ``renewTime + leaseDurationSeconds`` is past, its journal entries are replayed.

- ``RunLease``: create, renew (a daemon thread), delete;
- ``run_state``: ``held`` / ``expired`` / ``absent`` / ``unserved`` (the API serves no
  Leases: the caller falls back to host and pid);
- ``lease_expired``: the pure expiry rule, for tests.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.errors import ClusterError
from harness.kube.transport import ApiError, Transport

GROUP_PATH = "/apis/coordination.k8s.io/v1"
PREFIX = "zkdrill-run-"
DURATION = 30  # seconds a Lease stays held without renewal
RENEW_EVERY = 10.0


def lease_name(run_id: str) -> str:
    return f"{PREFIX}{run_id}"


def leases_path(namespace: str, name: str | None = None) -> str:
    path = f"{GROUP_PATH}/namespaces/{namespace}/leases"
    return f"{path}/{name}" if name else path


def micro_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def lease_expired(lease: dict[str, Any], now: datetime) -> bool:
    """A Lease nobody renewed within its duration (no renew time: expired)."""
    spec = lease.get("spec") or {}
    renewed = spec.get("renewTime") or spec.get("acquireTime")
    if not renewed:
        return True
    duration = int(spec.get("leaseDurationSeconds") or 0)
    return parse_time(str(renewed)) + timedelta(seconds=duration) < now


def run_state(transport: Transport, namespace: str, run_id: str,
              now: datetime | None = None) -> str:
    """``held``, ``expired``, ``absent`` or ``unserved`` (no Lease API on this cluster)."""
    try:
        lease = transport.request("GET", leases_path(namespace, lease_name(run_id)))
    except ApiError as exc:
        if not exc.not_found:
            raise
        return "absent" if leases_served(transport) else "unserved"
    return "expired" if lease_expired(lease, now or datetime.now(UTC)) else "held"


def leases_served(transport: Transport) -> bool:
    try:
        listing = transport.request("GET", GROUP_PATH)
    except ApiError as exc:
        if exc.not_found:
            return False
        raise
    return any(r.get("name") == "leases" for r in listing.get("resources") or [])


class RunLease:
    """The Lease that says "run ``run_id`` is alive"; ``start`` creates it, ``stop`` deletes."""

    def __init__(self, transport: Transport, namespace: str, run_id: str, *,
                 duration: int = DURATION, renew_every: float = RENEW_EVERY) -> None:
        self.transport = transport
        self.namespace = namespace
        self.run_id = run_id
        self.name = lease_name(run_id)
        self.duration = duration
        self.renew_every = renew_every
        self.served = True
        self.error: str | None = None  # the last renewal failure, if any
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RunLease:
        """Create the Lease (a cluster without the Lease API: host and pid remain the signal)."""
        now = micro_time(datetime.now(UTC))
        body = {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "labels": {"app.kubernetes.io/managed-by": "zkdrill"}},
            "spec": {"holderIdentity": self.run_id, "leaseDurationSeconds": self.duration,
                     "acquireTime": now, "renewTime": now},
        }
        try:
            self.transport.request("POST", leases_path(self.namespace), body=body)
        except ApiError as exc:
            if exc.not_found and not leases_served(self.transport):
                self.served = False
                return self
            raise
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease {self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def renew(self) -> None:
        patch = {"spec": {"renewTime": micro_time(datetime.now(UTC))}}
        self.transport.request("PATCH", leases_path(self.namespace, self.name), body=patch,
                               content_type="application/merge-patch+json")

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_every):
            try:
                self.renew()
                self.error = None
            except ClusterError as exc:  # try again at the next tick; the run goes on
                self.error = str(exc)

    def stop(self) -> None:
        """Stop renewing and delete the Lease (the run is over: its leftovers are replayable)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if not self.served:
            return
        try:
            self.transport.request("DELETE", leases_path(self.namespace, self.name))
        except ApiError as exc:
            if not exc.not_found:
                raise
