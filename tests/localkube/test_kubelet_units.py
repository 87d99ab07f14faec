"""Pure parts of the kubelet: status generation, back-off, DNS records, IPAM, probes' rules."""

from __future__ import annotations

import asyncio

from localkube.kubelet.backoff import Backoff, go_duration
from localkube.kubelet.dns import cluster_records, entries_for
from localkube.kubelet.network import IPAM
from localkube.kubelet.prober import LIVENESS, READINESS, ProbeSpec, ProbeWorker
from localkube.kubelet.status import (
    ContainerRecord,
    Instance,
    merge_conditions,
    pod_conditions,
    pod_phase,
)


def test_backoff_first_restart_immediate_then_doubling_and_reset() -> None:
    b = Backoff()
    assert not b.in_backoff_since("zk", 100.0, 100.0)  # first exit: restart now
    b.next("zk", 100.0, 100.0)
    assert b.in_backoff_since("zk", 105.0, 105.5)  # second exit within 10 s: wait
    assert go_duration(b.delay("zk")) == "10s"
    assert b.remaining_since("zk", 105.0, 105.5) == 9.5
    assert not b.in_backoff_since("zk", 105.0, 115.0)
    b.next("zk", 105.0, 115.0)
    assert go_duration(b.delay("zk")) == "20s"
    for _ in range(10):
        b.next("zk", 116.0, 116.0)
    assert go_duration(b.delay("zk")) == "5m0s"
    # an exit more than 600 s after the last restart starts over
    assert not b.in_backoff_since("zk", 800.0, 800.0)
    b.next("zk", 800.0, 800.0)
    assert b.delay("zk") == 10.0
    assert go_duration(80) == "1m20s"


def test_phase_follows_restart_policy() -> None:
    waiting = ContainerRecord("zk", "img")
    running = ContainerRecord("zk", "img", current=Instance("a", 1.0), waiting=None)
    failed = ContainerRecord("zk", "img", current=Instance("a", 1.0, 2.0, 1), waiting=None)
    ok = ContainerRecord("zk", "img", current=Instance("a", 1.0, 2.0, 0), waiting=None)
    crash = ContainerRecord("zk", "img", current=Instance("a", 1.0, 2.0, 1),
                            waiting=("CrashLoopBackOff", "back-off 10s ..."))
    assert pod_phase("Always", [waiting], False) == "Pending"
    assert pod_phase("Always", [running], False) == "Running"
    assert pod_phase("Always", [crash], False) == "Running"
    assert pod_phase("Always", [failed], False) == "Running"
    assert pod_phase("OnFailure", [failed], False) == "Running"
    assert pod_phase("OnFailure", [ok], False) == "Succeeded"
    assert pod_phase("Never", [failed], False) == "Failed"
    assert pod_phase("Always", [failed], True) == "Failed"
    assert pod_phase("Always", [ok], True) == "Succeeded"


def test_container_status_shapes() -> None:
    rec = ContainerRecord("zk", "img", current=Instance("abc", 0.0), waiting=None, ready=True,
                          started=True)
    api = rec.api()
    assert api["state"] == {"running": {"startedAt": "1970-01-01T00:00:00Z"}}
    assert api["containerID"] == "localkube://abc" and api["lastState"] == {}
    assert api["ready"] and api["started"] and api["restartCount"] == 0
    rec.current = Instance("abc", 0.0, 5.0, 143, "Error")
    rec.ready = False
    api = rec.api()
    assert api["state"]["terminated"]["exitCode"] == 143
    assert api["state"]["terminated"]["reason"] == "Error"
    rec.waiting = ("CrashLoopBackOff", "back-off 10s restarting failed container=zk pod=x")
    api = rec.api()
    assert api["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert api["lastState"]["terminated"]["containerID"] == "localkube://abc"
    fresh = ContainerRecord("zk", "img").api()
    assert fresh["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert fresh["imageID"] == "" and "containerID" not in fresh


def test_conditions_keep_transition_times() -> None:
    rec = ContainerRecord("zk", "img", current=Instance("a", 1.0), waiting=None)
    conds = pod_conditions({}, [rec], "Running", True, [])
    assert [c["type"] for c in conds] == ["PodReadyToStartContainers", "Initialized", "Ready",
                                          "ContainersReady", "PodScheduled"]
    ready = conds[2]
    assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [zk]"
    first = merge_conditions(conds, [], 100.0)
    again = merge_conditions(conds, first, 200.0)
    assert again == first  # nothing flipped: no new lastTransitionTime
    rec.ready = True
    flipped = merge_conditions(pod_conditions({}, [rec], "Running", True, first), first, 300.0)
    by_type = {c["type"]: c for c in flipped}
    assert by_type["Ready"]["status"] == "True"
    assert by_type["Ready"]["lastTransitionTime"] == "1970-01-01T00:05:00Z"
    assert by_type["Initialized"]["lastTransitionTime"] == "1970-01-01T00:01:40Z"


def _pod(name: str, ip: str, ready: bool, **extra: object) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "uid": name, "labels": {"app": "zk"}},
        "spec": {"hostname": name, "subdomain": "zk-hs"},
        "status": {"podIP": ip, "phase": "Running",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
        **extra,
    }


def test_dns_publishes_ready_pods_and_cluster_ips() -> None:
    services = [
        {"metadata": {"name": "zk-hs", "namespace": "default"},
         "spec": {"clusterIP": "None", "selector": {"app": "zk"}}},
        {"metadata": {"name": "zk-cs", "namespace": "default"},
         "spec": {"clusterIP": "127.9.255.1", "selector": {"app": "zk"}}},
    ]
    pods = [_pod("zk-0", "127.9.1.1", True), _pod("zk-1", "127.9.2.1", False)]
    records = cluster_records(services, pods)
    fqdns = {(r.fqdn("cluster.local"), r.ip) for r in records}
    assert ("zk-0.zk-hs.default.svc.cluster.local", "127.9.1.1") in fqdns
    assert ("zk-hs.default.svc.cluster.local", "127.9.1.1") in fqdns
    assert ("zk-cs.default.svc.cluster.local", "127.9.255.1") in fqdns
    assert not any(ip == "127.9.2.1" for _, ip in fqdns)  # not Ready: not published
    # publishNotReadyAddresses publishes it
    services[0]["spec"]["publishNotReadyAddresses"] = True
    records = cluster_records(services, pods)
    assert ("zk-1.zk-hs.default.svc.cluster.local", "127.9.2.1") in \
        {(r.fqdn("cluster.local"), r.ip) for r in records}
    # a pod's own record is the kubelet's line, not a cluster entry
    assert all("zk-0.zk-hs" not in names[0] for _, names in
               entries_for("zk-0", records, "cluster.local"))


def test_ipam_per_node_round_robin_never_reuses_held() -> None:
    ipam = IPAM("127.50.0.0/16", ["node-1", "node-2"])
    a = ipam.allocate("node-1")
    b = ipam.allocate("node-1")
    assert (a, b) == ("127.50.1.1", "127.50.1.2")
    assert ipam.allocate("node-2") == "127.50.2.1"
    ipam.release(a)
    assert ipam.allocate("node-1") == "127.50.1.3"  # round robin, not the just-freed one
    assert ipam.pod_cidr("node-2") == "127.50.2.0/24"


def test_probe_thresholds_and_hold() -> None:
    async def scenario() -> tuple[list[tuple[str, bool, bool]], ProbeWorker]:
        results: list[tuple[str, bool, bool]] = []
        reached = asyncio.Event()
        outcomes = iter([False, False, False, True])

        async def run() -> tuple[bool, str]:
            return next(outcomes), "out"

        def on_result(kind: str, ok: bool, _out: str, at_threshold: bool) -> None:
            results.append((kind, ok, at_threshold))
            if at_threshold:
                reached.set()

        spec = ProbeSpec(handler={"exec": {"command": ["x"]}}, initial_delay=0, period=0.001,
                         timeout=1, success_threshold=1, failure_threshold=3,
                         termination_grace=None)
        worker = ProbeWorker(LIVENESS, spec, run, on_result)
        worker.start(0)
        await asyncio.wait_for(reached.wait(), 5)
        return results, worker

    results, worker = asyncio.run(scenario())
    # the third consecutive failure reaches the threshold; then the worker holds
    assert results == [(LIVENESS, False, False), (LIVENESS, False, False),
                       (LIVENESS, False, True)]
    assert worker._stopped
    parsed = ProbeSpec.parse({"tcpSocket": {"port": 1}})
    assert (parsed.period, parsed.timeout, parsed.failure_threshold) == (10, 1, 3)
    assert ProbeSpec.parse({"httpGet": {"port": 1}, "timeoutSeconds": 5}).timeout == 5
    assert READINESS == "Readiness"
