"""StatefulSet identity: pod names ↔ ordinals, ZooKeeper myid, FQDNs, ``server.N`` lines.

Pure, no I/O. The tutorial's facts in one place: pod ``zk-<i>`` has ``myid`` i+1, the host
name ``zk-<i>.zk-hs.default.svc.cluster.local``, and zoo.cfg lists
``server.<i+1>=<fqdn>:2888:3888`` for every ordinal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MEMBER = re.compile(r"^(.*)-([0-9]+)$")


@dataclass(frozen=True)
class Member:
    """One server of the ensemble, as the StatefulSet and ZooKeeper both name it."""

    ordinal: int
    pod: str
    myid: int
    fqdn: str


def pod_name(statefulset: str, ordinal: int) -> str:
    if ordinal < 0:
        raise ValueError(f"ordinal must be >= 0, got {ordinal}")
    return f"{statefulset}-{ordinal}"


def ordinal_of(statefulset: str, pod: str) -> int | None:
    """The pod's ordinal if the StatefulSet owns that name (controller's rule), else None."""
    match = _MEMBER.match(pod)
    if match is None or match.group(1) != statefulset:
        return None
    return int(match.group(2))


def myid(ordinal: int) -> int:
    """ZooKeeper server id of the pod with this ordinal (ids start at 1)."""
    if ordinal < 0:
        raise ValueError(f"ordinal must be >= 0, got {ordinal}")
    return ordinal + 1


def ordinal_for_myid(server_id: int) -> int:
    if server_id < 1:
        raise ValueError(f"ZooKeeper server ids start at 1, got {server_id}")
    return server_id - 1


def pod_fqdn(
    statefulset: str,
    ordinal: int,
    service: str,
    namespace: str,
    cluster_domain: str = "cluster.local",
) -> str:
    """``zk-0.zk-hs.default.svc.cluster.local``: what ``hostname -f`` prints in the pod."""
    return f"{pod_name(statefulset, ordinal)}.{service}.{namespace}.svc.{cluster_domain}"


def members(
    statefulset: str,
    replicas: int,
    service: str,
    namespace: str,
    cluster_domain: str = "cluster.local",
    start: int = 0,
) -> tuple[Member, ...]:
    """Every expected server, ordinal ``start`` upwards (``spec.ordinals.start``, default 0)."""
    return tuple(
        Member(
            ordinal=i,
            pod=pod_name(statefulset, i),
            myid=myid(i),
            fqdn=pod_fqdn(statefulset, i, service, namespace, cluster_domain),
        )
        for i in range(start, start + replicas)
    )


def expected_server_lines(
    statefulset: str,
    replicas: int,
    service: str,
    namespace: str,
    cluster_domain: str = "cluster.local",
    server_port: int = 2888,
    election_port: int = 3888,
) -> list[str]:
    """The ``server.N=host:2888:3888`` lines start-zookeeper writes into zoo.cfg."""
    return [
        f"server.{m.myid}={m.fqdn}:{server_port}:{election_port}"
        for m in members(statefulset, replicas, service, namespace, cluster_domain)
    ]
