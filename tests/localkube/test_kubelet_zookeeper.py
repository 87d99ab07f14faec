"""The tutorial's ZooKeeper ensemble on localkube's kubelets: real servers, real probes.

Checks, on the tutorial's manifest (probe delays, grace period and tick time shortened so
the run stays short):
- each pod shows Pending → ContainerCreating → 0/1 Running → 1/1 Running, with the status
  fields a real kubelet writes;
- the three servers resolve each other through cluster DNS and form a quorum;
- `pkill java` in zk-0 → 0/1 Error 0 → 0/1 Running 1 → 1/1 Running 1;
- removing zookeeper-ready in zk-1 → 0/1 Running 0 → 0/1 Running 1 → 1/1 Running 1 with
  the liveness events;
- shutting localkube down leaves no ZooKeeper process and no mount behind.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from pathlib import Path

import pytest
import yaml

from localkube import resources as R
from localkube.cluster import Cluster
from localkube.runtime import proctree, run_exec
from tests.localkube.kubelet_support import (
    PodRows,
    container_status,
    events,
    pod,
    require_runtime,
    running_cluster,
    wait_for,
)

pytestmark = pytest.mark.slow

MANIFEST = Path(__file__).resolve().parents[2] / "harness" / "manifests" / "zookeeper.yaml"
ZK = "kubernetes-zookeeper"


def tutorial_objects() -> list[dict]:
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    for doc in docs:
        if doc["kind"] != "StatefulSet":
            continue
        template = doc["spec"]["template"]["spec"]
        template["terminationGracePeriodSeconds"] = 5
        container = template["containers"][0]
        for probe in ("readinessProbe", "livenessProbe"):
            container[probe].update(initialDelaySeconds=2, periodSeconds=2)
        # 10 s for a JVM to answer its first ruok on a loaded host before liveness kills it;
        # readiness (3 x 2 s) still fails first, as in the tutorial.
        container["livenessProbe"]["failureThreshold"] = 5
        container["command"][-1] = container["command"][-1].replace(
            "--tick_time=2000", "--tick_time=500").replace("--heap=512M", "--heap=256M")
    return docs


def in_order(seen: list[str], wanted: list[str]) -> bool:
    it = iter(seen)
    return all(any(row == w for row in it) for w in wanted)


async def zk_exec(c: Cluster, name: str, script: str) -> str:
    handle = c.containers.lookup("default", name, ZK)
    assert handle is not None and handle.running
    result = await run_exec(handle.container, ["sh", "-c", script], timeout=10)
    return result.stdout.decode()


async def wait_quorum(c: Cluster, timeout: float) -> list[str]:
    """Poll `srvr` on every server (ZooKeeper's state is not in the store)."""
    deadline = time.monotonic() + timeout
    modes: list[str] = []
    while time.monotonic() < deadline:
        modes = []
        for i in range(3):
            out = await zk_exec(c, f"zk-{i}", "echo srvr | nc -q 1 127.0.0.1 2181")
            modes += [line.split(": ")[1] for line in out.splitlines()
                      if line.startswith("Mode: ")] or ["none"]
        if sorted(modes) == ["follower", "follower", "leader"]:
            return modes
        await asyncio.sleep(0.5)
    raise AssertionError(f"no quorum after {timeout}s: {modes}")


def test_zookeeper_ensemble_on_kubelets(tmp_path: Path) -> None:
    require_runtime(zookeeper=True)

    async def scenario() -> None:
        pids: list[int] = []
        async with running_cluster(tmp_path) as c:
            rows = PodRows(c)
            for obj in tutorial_objects():
                c.registry.create(R.for_kind(obj["kind"]), "default", obj)
            names = ["zk-0", "zk-1", "zk-2"]
            await wait_for(c, lambda: all((rows.rows.get(n) or [""])[-1] == "1/1 Running 0"
                                          for n in names), 90, "three ready servers")
            for name in names:
                assert in_order(rows.rows[name], ["0/1 Pending 0", "0/1 ContainerCreating 0",
                                                  "0/1 Running 0", "1/1 Running 0"]), \
                    (name, rows.rows[name])
            check_status_fields(c)

            modes = await wait_quorum(c, 60)
            assert sorted(modes) == ["follower", "follower", "leader"]
            ips = {n: pod(c, n)["status"]["podIP"] for n in names}
            hosts = await zk_exec(c, "zk-0", "cat /etc/hosts; hostname -f")
            assert f"{ips['zk-0']}\tzk-0.zk-hs.default.svc.cluster.local\tzk-0" in hosts
            for peer in ("zk-1", "zk-2"):
                assert f"{ips[peer]}\t{peer}.zk-hs.default.svc.cluster.local {peer}.zk-hs" \
                    in hosts
            assert hosts.rstrip().endswith("zk-0.zk-hs.default.svc.cluster.local")

            # Surviving a process failure
            before = len(rows.rows["zk-0"])
            await zk_exec(c, "zk-0", "pkill java")
            await wait_for(c, lambda: rows.rows["zk-0"][-1] == "1/1 Running 1", 30,
                           "zk-0 restarted and ready")
            after = rows.rows["zk-0"][before:]
            assert in_order(after, ["0/1 Error 0", "0/1 Running 1", "1/1 Running 1"]), after
            last = container_status(c, "zk-0")["lastState"]["terminated"]
            assert last["exitCode"] == 143 and last["reason"] == "Error"

            # Testing for liveness
            before = len(rows.rows["zk-1"])
            await zk_exec(c, "zk-1", "rm /opt/zookeeper/bin/zookeeper-ready")
            await wait_for(c, lambda: rows.rows["zk-1"][-1] == "1/1 Running 1", 60,
                           "zk-1 restarted by liveness and ready")
            after = rows.rows["zk-1"][before:]
            assert after == ["0/1 Running 0", "0/1 Running 1", "1/1 Running 1"], after
            seen = events(c, "zk-1")
            assert ("Normal", "Killing",
                    f"Container {ZK} failed liveness probe, will be restarted") in seen
            assert any(t == "Warning" and r == "Unhealthy" and m.startswith(
                "Liveness probe failed:") and "zookeeper-ready" in m for t, r, m in seen)
            await wait_quorum(c, 60)

            for name in names:
                handle = c.containers.lookup("default", name, ZK)
                pids += [handle.container.pid, *proctree.descendants(handle.container.pid)]
            assert len(pids) >= 6
        # localkube stopped: every container process is gone, and nothing is mounted
        assert not [p for p in pids if Path(f"/proc/{p}").exists()]
        mounts = Path("/proc/self/mountinfo").read_text()
        assert str(tmp_path) not in mounts

    asyncio.run(scenario())


def check_status_fields(c: Cluster) -> None:
    obj = pod(c, "zk-0")
    status = obj["status"]
    assert status["phase"] == "Running" and status["qosClass"] == "Burstable"
    assert [x["type"] for x in status["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert all(x["status"] == "True" and x["lastTransitionTime"] for x in status["conditions"])
    assert ipaddress.ip_address(status["podIP"]) in ipaddress.ip_network(c.config.pod_network)
    assert status["podIPs"] == [{"ip": status["podIP"]}]
    assert status["hostIP"] == "127.0.0.1" and status["hostIPs"] == [{"ip": "127.0.0.1"}]
    assert status["startTime"].endswith("Z")
    cs = status["containerStatuses"][0]
    assert cs["name"] == ZK and cs["image"] == "k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10"
    assert cs["imageID"].startswith("k8s.gcr.io/kubernetes-zookeeper@sha256:")
    assert cs["containerID"].startswith("localkube://")
    assert cs["ready"] is True and cs["started"] is True and cs["restartCount"] == 0
    assert set(cs["state"]) == {"running"} and cs["lastState"] == {}
    assert {"mountPath": "/var/lib/zookeeper", "name": "datadir"} in cs["volumeMounts"]
    reasons = [r for _, r, _ in events(c, "zk-0")]
    assert in_order(reasons, ["Scheduled", "Pulling", "Pulled", "Created", "Started"]), reasons
