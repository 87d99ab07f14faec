"""Shared helpers for the kubelet tests: a real in-process cluster and store-driven waits.

Waits are driven by store notifications (every committed write wakes them) under one
deadline, like `kubectl get -w`; `PodRows` records the READY/STATUS/RESTARTS row of every
pod version the store ever held, so tests can assert the sequences the tutorial shows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from localkube import resources as R
from localkube.cluster import Cluster, ClusterConfig
from localkube.kubelet import build_kubelets
from localkube.store import Change

ZK_JAR = Path("/usr/share/java/zookeeper.jar")


def require_runtime(zookeeper: bool = False) -> None:
    """Skip (with the reason) where real containers cannot run."""
    if os.geteuid() != 0:
        pytest.skip("kubelet tests run real containers: they need root")
    for tool in ("unshare", "nsenter", "setpriv", "gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"kubelet tests need `{tool}` on PATH")
    if zookeeper and not ZK_JAR.exists():
        pytest.skip("ZooKeeper is not installed (apt-get install zookeeper)")


_SUBNETS = iter(range(0, 10_000))


def unique_subnet() -> str:
    """A 127.N.0.0/16 no other test (or test run) of this machine uses at the same time."""
    n = 100 + (os.getpid() * 7 + next(_SUBNETS)) % 150
    return f"127.{n}.0.0/16"


def pod_row(pod: dict) -> str:
    """`READY STATUS RESTARTS` as `kubectl get pods` prints them (printPod, simplified)."""
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready") and "running" in (c.get("state") or {}))
    reason = status.get("reason") or status.get("phase") or ""
    for c in reversed(statuses):
        state = c.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    if reason == "Completed" and any("running" in (c.get("state") or {}) for c in statuses):
        reason = "Running"
    if pod["metadata"].get("deletionTimestamp") and status.get("phase") not in (
            "Succeeded", "Failed"):
        reason = "Terminating"
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    return f"{ready}/{len(pod['spec']['containers'])} {reason} {restarts}"


class PodRows:
    """Every distinct row each pod showed, in order (what `kubectl get pods -w` prints)."""

    def __init__(self, cluster: Cluster) -> None:
        self.rows: dict[str, list[str]] = {}
        #: the last version of each deleted pod (what the DELETED watch event carried)
        self.final: dict[str, dict] = {}
        self._unsubscribe = cluster.store.subscribe(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.resource != R.PODS.key:
            return
        if change.type == "DELETED":
            self.final[change.obj["metadata"]["name"]] = change.obj
            return
        name = change.obj["metadata"]["name"]
        row = pod_row(change.obj)
        seen = self.rows.setdefault(name, [])
        if not seen or seen[-1] != row:
            seen.append(row)

    def close(self) -> None:
        self._unsubscribe()


async def wait_for(cluster: Cluster, check: Callable[[], Any], timeout: float,
                   what: str = "condition") -> Any:
    """Re-evaluate `check` after every store write until it returns a truthy value."""
    changed = asyncio.Event()
    unsubscribe = cluster.store.subscribe(lambda _c: changed.set())
    deadline = time.monotonic() + timeout
    try:
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue
    finally:
        unsubscribe()


def pod(cluster: Cluster, name: str, ns: str = "default") -> dict | None:
    return cluster.registry.try_get(R.PODS, ns, name)


def container_status(cluster: Cluster, name: str) -> dict:
    obj = pod(cluster, name) or {}
    return ((obj.get("status") or {}).get("containerStatuses") or [{}])[0]


def events(cluster: Cluster, name: str) -> list[tuple[str, str, str]]:
    items, _ = cluster.registry.list(R.EVENTS, "default")
    items.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["type"], e["reason"], e["message"]) for e in items
            if e["involvedObject"]["name"] == name]


@asynccontextmanager
async def running_cluster(tmp_path: Path, nodes: int = 4, controllers: bool = True):
    """A bootstrapped cluster with kubelets (and the control plane), stopped afterwards."""
    cluster = Cluster(ClusterConfig(state_dir=tmp_path, nodes=nodes, subnet=unique_subnet()))
    cluster.bootstrap()
    if controllers:
        from localkube.controllers import build_controllers

        cluster.add(build_controllers(cluster))
    cluster.add(build_kubelets(cluster))
    cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


def simple_pod(name: str, command: list[str], **spec: Any) -> dict:
    """A one-container pod on a stand-in image (the host's /usr is visible in every image)."""
    container = {"name": "c", "image": "nginx-slim", "imagePullPolicy": "IfNotPresent",
                 "command": command}
    container.update(spec.pop("container", {}))
    return {"metadata": {"name": name, "labels": {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 5, "containers": [container], **spec}}
