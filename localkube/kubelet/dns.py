"""Cluster DNS as hosts files: every pod's `/etc/hosts` carries the cluster's A records.

There is no DNS server: each sandbox's hosts file (the kubelet-managed file bind-mounted
over `/etc/hosts`, also read by Java through `-Djdk.net.hosts.file`) is rewritten in place
whenever the answer CoreDNS would give changes. What is published, as CoreDNS's
`kubernetes` plugin does from Endpoints:

- the pod's own line, written by the kubelet itself on a real node:
  `<podIP> <hostname>.<subdomain>.<ns>.svc.<domain> <hostname>` (always present, Ready or
  not — this is how a ZooKeeper server resolves its *own* quorum address before it is Ready);
- `<hostname>.<svc>.<ns>.svc.<domain>` for pods with `spec.hostname` whose `spec.subdomain`
  names a headless Service selecting them, **only while the pod is Ready** (its address is in
  the Endpoints' `addresses`), or also while not ready when the Service sets
  `publishNotReadyAddresses`; terminating pods drop out (unless publishNotReadyAddresses);
- `<svc>.<ns>.svc.<domain>` → the ClusterIP, or for a headless Service one line per ready
  endpoint.

Why this lets the tutorial's ensemble form: `zookeeper-ready` only asks `ruok`, which a
ZooKeeper server answers `imok` as soon as its process serves, quorum or not. So each server
becomes Ready alone (OrderedReady waits for exactly that), its A record appears, and the
servers started earlier or later find it when ZooKeeper retries its peer connections.

Hosts files have no search path, so the sandbox (localkube.runtime.sandbox) lists the short
forms its resolv.conf search list would expand: `<name>.<ns>` and `<name>.<ns>.svc`
everywhere, bare `<svc>` and `<hostname>.<svc>` only in pods of the same namespace. This
module decides *which* records exist; the sandbox renders and writes the file.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from localkube import resources as R
from localkube.controllers.base import Controller
from localkube.kubelet.network import Sandboxes
from localkube.registry import Registry
from localkube.store import Change

log = logging.getLogger("localkube.dns")

Entries = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Record:
    """One A record: `<relative>.<namespace>.svc.<domain>` → ip."""

    ip: str
    relative: str  # e.g. "zk-0.zk-hs" or "zk-cs"
    namespace: str
    pod_uid: str = ""

    def fqdn(self, domain: str) -> str:
        return f"{self.relative}.{self.namespace}.svc.{domain}"


def pod_ready(pod: dict) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def _selects(selector: dict | None, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


def endpoint_pods(svc: dict, pods: list[dict]) -> list[dict]:
    """The pods whose address CoreDNS serves for `svc` (the Endpoints' `addresses`)."""
    spec = svc.get("spec") or {}
    ns = svc["metadata"]["namespace"]
    publish_all = bool(spec.get("publishNotReadyAddresses"))
    out = []
    for pod in pods:
        meta, status = pod["metadata"], pod.get("status") or {}
        if meta.get("namespace") != ns or not status.get("podIP"):
            continue
        if not _selects(spec.get("selector"), meta.get("labels") or {}):
            continue
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        if publish_all or (pod_ready(pod) and not meta.get("deletionTimestamp")):
            out.append(pod)
    return out


def cluster_records(services: list[dict], pods: list[dict]) -> list[Record]:
    """Every A record cluster DNS would answer, in a stable order."""
    records: list[Record] = []
    for svc in services:
        name, ns = svc["metadata"]["name"], svc["metadata"]["namespace"]
        cluster_ip = (svc.get("spec") or {}).get("clusterIP")
        if cluster_ip and cluster_ip != "None":
            records.append(Record(cluster_ip, name, ns))
            continue
        for pod in endpoint_pods(svc, pods):
            ip = pod["status"]["podIP"]
            records.append(Record(ip, name, ns))
            spec = pod.get("spec") or {}
            if spec.get("hostname") and spec.get("subdomain") == name:
                records.append(Record(ip, f"{spec['hostname']}.{name}", ns,
                                      pod["metadata"].get("uid", "")))
    return records


def entries_for(uid: str, records: Iterable[Record], domain: str) -> Entries:
    """The hosts entries of one pod: every record but its own line (the kubelet writes it)."""
    return tuple((r.ip, (r.fqdn(domain),)) for r in records if r.pod_uid != uid)


class ClusterDNS(Controller):
    """Keeps every sandbox's hosts file in line with the current records."""

    name = "cluster-dns"
    watches = (R.PODS.key, R.SERVICES.key)
    KEY = "hosts"

    def __init__(self, registry: Registry, sandboxes: Sandboxes, domain: str) -> None:
        super().__init__(registry)
        self.sandboxes = sandboxes
        self.domain = domain
        self._written: dict[str, Entries] = {}

    def keys_for(self, change: Change) -> Iterable[str]:
        return [self.KEY]

    def initial_keys(self) -> Iterable[str]:
        return [self.KEY]

    def records(self) -> list[Record]:
        services = [o for o, _ in self.store.scan(R.SERVICES.key)]
        pods = [o for o, _ in self.store.scan(R.PODS.key)]
        return cluster_records(services, pods)

    async def reconcile(self, key: Hashable) -> float | None:
        self.sync()
        return None

    def sync(self) -> None:
        """Rewrite the hosts files whose records changed.

        Kubelets call this right after creating a sandbox, so a container never starts
        with an empty cluster section.
        """
        records = self.records()
        live = set()
        for info in self.sandboxes.all():
            live.add(info.uid)
            entries = entries_for(info.uid, records, self.domain)
            if self._written.get(info.uid) == entries:
                continue
            try:
                info.update_hosts(entries)
            except Exception as exc:  # a vanished sandbox dir must not stop the others
                log.warning("cannot write hosts file of %s/%s: %s", info.namespace, info.name,
                            exc)
                continue
            self._written[info.uid] = entries
        for uid in set(self._written) - live:
            del self._written[uid]
