"""Kubelet behaviours on small real containers: restarts, back-off, image pulls, deletion,
volumes, probes over TCP/HTTP and the ClusterIP proxy.

Each test runs a real in-process cluster (control plane + kubelets) whose containers are
processes in their own namespaces; every wait follows store writes under a deadline.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import urllib.request
from pathlib import Path

import pytest

from localkube import resources as R
from localkube.runtime import run_exec
from tests.localkube.kubelet_support import (
    PodRows,
    container_status,
    events,
    pod,
    require_runtime,
    running_cluster,
    simple_pod,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _runtime() -> None:
    require_runtime()


def test_missing_command_crash_loops_with_backoff(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path) as c:
            rows = PodRows(c)
            created = c.registry.create(R.PODS, "default", simple_pod("crash", ["no-such-cmd"]))
            uid = created["metadata"]["uid"]
            waiting = await wait_for(c, lambda: (container_status(c, "crash").get("state") or {})
                                     .get("waiting", {}).get("reason") == "CrashLoopBackOff"
                                     and container_status(c, "crash"), 15, "CrashLoopBackOff")
            assert waiting["state"]["waiting"]["message"] == \
                f"back-off 10s restarting failed container=c pod=crash_default({uid})"
            last = waiting["lastState"]["terminated"]
            assert last["exitCode"] == 127 and last["reason"] == "Error"
            assert "no-such-cmd" in last.get("message", "")
            assert waiting["restartCount"] == 1  # first restart was immediate
            assert pod(c, "crash")["status"]["phase"] == "Running"
            assert in_order(rows.rows["crash"], ["0/1 ContainerCreating 0", "0/1 Error 0",
                                                 "0/1 CrashLoopBackOff 1"]), rows.rows["crash"]
            assert rows.rows["crash"][-1] == "0/1 CrashLoopBackOff 1"
            assert ("Warning", "BackOff",
                    f"Back-off restarting failed container c in pod crash_default({uid})") \
                in events(c, "crash")
            # after 10 s the next start happens; its exit doubles the back-off
            again = await wait_for(c, lambda: container_status(c, "crash").get("restartCount")
                                   == 2 and "waiting" in container_status(c, "crash")["state"]
                                   and container_status(c, "crash"), 15, "second back-off")
            assert again["state"]["waiting"]["message"].startswith("back-off 20s ")

    asyncio.run(scenario())


def test_unknown_image_err_image_pull_then_backoff(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path) as c:
            rows = PodRows(c)
            body = simple_pod("ghost", ["true"], container={"image": "example.com/ghost:1"})
            c.registry.create(R.PODS, "default", body)
            status = await wait_for(
                c, lambda: (container_status(c, "ghost").get("state") or {}).get("waiting", {})
                .get("reason") == "ImagePullBackOff" and container_status(c, "ghost"), 15,
                "ImagePullBackOff")
            assert status["state"]["waiting"]["message"] == \
                'Back-off pulling image "example.com/ghost:1"'
            assert in_order(rows.rows["ghost"], ["0/1 ContainerCreating 0", "0/1 ErrImagePull 0",
                                                 "0/1 ImagePullBackOff 0"]), rows.rows["ghost"]
            assert pod(c, "ghost")["status"]["phase"] == "Pending"
            seen = events(c, "ghost")
            assert any(t == "Warning" and r == "Failed" and "example.com/ghost:1" in m
                       for t, r, m in seen)
            assert ("Normal", "BackOff", 'Back-off pulling image "example.com/ghost:1"') in seen
            assert ("Warning", "Failed", "Error: ImagePullBackOff") in seen

    asyncio.run(scenario())


def test_graceful_deletion_waits_for_the_process(tmp_path: Path) -> None:
    script = "trap 'sleep 1; echo bye; exit 0' TERM; echo $$ > /tmp/pid; " \
             "while true; do sleep 0.1; done"
    trapped = {"readinessProbe": {"exec": {"command": ["cat", "/tmp/pid"]}, "periodSeconds": 1}}

    async def scenario() -> None:
        async with running_cluster(tmp_path) as c:
            rows = PodRows(c)
            c.registry.create(R.PODS, "default", simple_pod("grace", ["sh", "-c", script],
                                                                container=trapped))
            await wait_for(c, lambda: container_status(c, "grace").get("ready"), 15, "ready")
            handle = c.containers.lookup("default", "grace", "c")
            host_pid = handle.container.pid
            ip = pod(c, "grace")["status"]["podIP"]
            began = time.monotonic()
            c.registry.delete(R.PODS, "default", "grace")
            assert pod(c, "grace")["metadata"]["deletionTimestamp"]
            await wait_for(c, lambda: pod(c, "grace") is None, 15, "pod object removed")
            final = rows.final["grace"]
            took = time.monotonic() - began
            assert took >= 1.0  # the trap's 1 s was honoured before the object went
            assert not Path(f"/proc/{host_pid}").exists()
            assert final["status"]["phase"] == "Succeeded"  # the trap exits 0
            term = final["status"]["containerStatuses"][0]["state"]["terminated"]
            assert term["exitCode"] == 0 and term["reason"] == "Completed"
            assert ("Normal", "Killing", "Stopping container c") in events(c, "grace")
            assert not (tmp_path / "kubelet").exists() or not any(
                (tmp_path / "kubelet").glob("*/pods/*"))
            assert ip.startswith("127.")
            # force deletion: the object goes at once, the process still gets its SIGTERM
            c.registry.create(R.PODS, "default", simple_pod("forced", ["sh", "-c", script],
                                                                container=trapped))
            await wait_for(c, lambda: container_status(c, "forced").get("ready"), 15, "ready")
            handle = c.containers.lookup("default", "forced", "c")
            c.registry.delete(R.PODS, "default", "forced", {"gracePeriodSeconds": 0})
            assert pod(c, "forced") is None and handle.running
            await asyncio.wait_for(handle.wait_stopped(), 10)
            assert handle.container.exit_code == 0  # the trap ran: SIGTERM, not SIGKILL

    asyncio.run(scenario())


def test_sigkill_after_grace_and_restart_policies(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path) as c:
            rows = PodRows(c)
            ignore_term = "trap '' TERM; touch /tmp/ready; while :; do sleep 0.1; done"
            stubborn = simple_pod("stubborn", ["sh", "-c", ignore_term],
                                  terminationGracePeriodSeconds=1, container={
                                      "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]},
                                                         "periodSeconds": 1}})
            done = simple_pod("done", ["sh", "-c", "exit 0"], restartPolicy="OnFailure")
            fails = simple_pod("fails", ["sh", "-c", "echo oops > /dev/termination-log; exit 3"],
                               restartPolicy="Never")
            for body in (stubborn, done, fails):
                c.registry.create(R.PODS, "default", body)
            await wait_for(c, lambda: (pod(c, "done") or {}).get("status", {}).get("phase")
                           == "Succeeded", 15, "done Succeeded")
            await wait_for(c, lambda: (pod(c, "fails") or {}).get("status", {}).get("phase")
                           == "Failed", 15, "fails Failed")
            term = container_status(c, "fails")["state"]["terminated"]
            assert (term["exitCode"], term["reason"], term["message"]) == (3, "Error", "oops\n")
            assert container_status(c, "done")["state"]["terminated"]["reason"] == "Completed"
            assert container_status(c, "fails")["restartCount"] == 0
            await wait_for(c, lambda: container_status(c, "stubborn").get("ready"), 15, "ready")
            began = time.monotonic()
            c.registry.delete(R.PODS, "default", "stubborn")
            await wait_for(c, lambda: pod(c, "stubborn") is None, 15, "stubborn pod removed")
            final = rows.final["stubborn"]
            assert time.monotonic() - began >= 2.0  # grace 1 s, but never under 2 s
            term = final["status"]["containerStatuses"][0]["state"]["terminated"]
            assert term["exitCode"] == 137 and final["status"]["phase"] == "Failed"

    asyncio.run(scenario())


def test_volumes_fsgroup_env_and_dns_files(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path) as c:
            c.registry.create(R.CONFIGMAPS, "default", {
                "metadata": {"name": "cfg"}, "data": {"greeting": "hello\n"}})
            body = simple_pod("vols", ["sleep", "60"], securityContext={
                "runAsUser": 1000, "fsGroup": 2000}, hostname="vols", subdomain="sub",
                volumes=[{"name": "scratch", "emptyDir": {}},
                         {"name": "cfg", "configMap": {"name": "cfg"}}],
                container={"volumeMounts": [{"name": "scratch", "mountPath": "/scratch"},
                                            {"name": "cfg", "mountPath": "/etc/cfg"}],
                           "env": [{"name": "MY_POD", "valueFrom": {"fieldRef": {
                               "fieldPath": "metadata.name"}}},
                               {"name": "GREETING", "valueFrom": {"configMapKeyRef": {
                                   "name": "cfg", "key": "greeting"}}}]})
            c.registry.create(R.PODS, "default", body)
            await wait_for(c, lambda: container_status(c, "vols").get("ready"), 15, "ready")
            handle = c.containers.lookup("default", "vols", "c")
            script = ("id -u; id -G; cat /etc/cfg/greeting; touch /scratch/f && stat -c %g "
                      "/scratch/f; echo $MY_POD $GREETING; hostname -f; cat /etc/hostname")
            result = await run_exec(handle.container, ["sh", "-c", script], timeout=5)
            out = result.stdout.decode().split("\n")
            assert result.exit_code == 0, result
            assert out[0] == "1000" and "2000" in out[1].split()
            assert out[2] == "hello" and out[3] == "2000"
            assert out[4] == "vols hello"
            assert out[5] == "vols.sub.default.svc.cluster.local" and out[6] == "vols"
            status = container_status(c, "vols")
            assert {"mountPath": "/scratch", "name": "scratch"} in status["volumeMounts"]
            pod_dir = tmp_path / "kubelet" / pod(c, "vols")["spec"]["nodeName"] / "pods" / \
                pod(c, "vols")["metadata"]["uid"]
            assert pod_dir.exists()
            c.registry.delete(R.PODS, "default", "vols", {"gracePeriodSeconds": 1})
            await wait_for(c, lambda: pod(c, "vols") is None, 15, "vols removed")
            assert not pod_dir.exists()  # emptyDir and configMap files went with the pod

    asyncio.run(scenario())


def test_http_tcp_probes_and_cluster_ip_proxy(tmp_path: Path) -> None:
    server = "cd /tmp && echo ok > index.html && exec python3 -m http.server 8080"

    async def scenario() -> None:
        async with running_cluster(tmp_path) as c:
            body = simple_pod("web", ["sh", "-c", server], container={
                "ports": [{"containerPort": 8080, "name": "http"}],
                "readinessProbe": {"httpGet": {"path": "/index.html", "port": "http"},
                                   "periodSeconds": 1},
                "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}})
            c.registry.create(R.PODS, "default", body)
            c.registry.create(R.SERVICES, "default", {
                "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"},
                         "ports": [{"port": 80, "targetPort": "http", "name": "http"}]}})
            await wait_for(c, lambda: container_status(c, "web").get("ready"), 20, "web ready")

            def ready_endpoint() -> bool:
                eps = c.registry.try_get(R.ENDPOINTS, "default", "web") or {}
                return any(s.get("addresses") for s in eps.get("subsets") or [])

            await wait_for(c, ready_endpoint, 10, "endpoints")
            ip = c.registry.get(R.SERVICES, "default", "web")["spec"]["clusterIP"]

            def fetch() -> str:
                with urllib.request.urlopen(f"http://{ip}:80/index.html", timeout=5) as r:
                    return r.read().decode()

            assert (await asyncio.to_thread(fetch)).strip() == "ok"
            # the service's name resolves inside pods of the namespace
            handle = c.containers.lookup("default", "web", "c")
            hosts = await run_exec(handle.container, ["cat", "/etc/hosts"], timeout=5)
            assert f"{ip}\tweb.default.svc.cluster.local" in hosts.stdout.decode()
            # breaking readiness (delete the page) makes the pod unready at once
            await run_exec(handle.container, ["rm", "/tmp/index.html"], timeout=5)
            await wait_for(c, lambda: not container_status(c, "web").get("ready"), 10,
                           "unready")
            assert container_status(c, "web")["restartCount"] == 0  # liveness (TCP) still ok
            assert any(r == "Unhealthy" and m.startswith(
                "Readiness probe failed: HTTP probe failed with statuscode: 404")
                for _, r, m in events(c, "web"))
            c.registry.delete(R.SERVICES, "default", "web")
            proxy = next(x for x in c.components if x.name == "service-proxy")
            await wait_for(c, lambda: not proxy._listeners, 5, "listener closed")
            with pytest.raises(OSError):
                await asyncio.to_thread(fetch)

    asyncio.run(scenario())


def test_deleted_while_being_created_is_cleaned_up(tmp_path: Path) -> None:
    token = f"{60 + random.random():.6f}"  # tells our sleeps from anyone else's

    async def scenario() -> None:
        async with running_cluster(tmp_path, controllers=False) as c:
            for name in ("instant", "quick"):
                body = simple_pod(name, ["sleep", token])
                body["spec"]["nodeName"] = "node-2"
                c.registry.create(R.PODS, "default", body)
            c.registry.delete(R.PODS, "default", "instant")  # before the kubelet ran at all
            await wait_for(c, lambda: (pod(c, "quick") or {}).get("status", {}).get(
                "containerStatuses"), 5, "kubelet saw the pod")
            c.registry.delete(R.PODS, "default", "quick")  # the sandbox is being set up now
            await wait_for(c, lambda: pod(c, "quick") is None and pod(c, "instant") is None, 15,
                           "pods removed")
            assert c.containers.lookup("default", "quick", "c") is None
            assert not any((tmp_path / "kubelet" / "node-2" / "pods").glob("*"))
            left = [p for p in os.listdir("/proc") if p.isdigit()
                    and _cmdline(p).startswith(f"sleep {token}")]
            assert not left

    asyncio.run(scenario())


def in_order(seen: list[str], wanted: list[str]) -> bool:
    """`wanted` appears in `seen` in this order (other rows may come in between)."""
    it = iter(seen)
    return all(any(row == w for row in it) for w in wanted)


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_startup_probe_gates_readiness(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path) as c:
            seen: list[tuple[bool, bool]] = []

            def record(change: object) -> None:
                status = container_status(c, "slow")
                if "running" in (status.get("state") or {}):
                    pair = (bool(status.get("started")), bool(status.get("ready")))
                    if not seen or seen[-1] != pair:
                        seen.append(pair)

            unsubscribe = c.store.subscribe(record)
            body = simple_pod("slow", ["sh", "-c", "sleep 1.5; touch /tmp/up; exec sleep 60"],
                              container={
                                  "startupProbe": {"exec": {"command": ["cat", "/tmp/up"]},
                                                   "periodSeconds": 1, "failureThreshold": 10},
                                  "readinessProbe": {"exec": {"command": ["true"]},
                                                     "periodSeconds": 1}})
            c.registry.create(R.PODS, "default", body)
            await wait_for(c, lambda: container_status(c, "slow").get("ready"), 15, "ready")
            unsubscribe()
            assert seen[0] == (False, False) and seen[-1] == (True, True), seen
            assert container_status(c, "slow")["restartCount"] == 0

    asyncio.run(scenario())


def test_waits_for_the_claim_to_be_bound(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path, controllers=False) as c:
            c.registry.create(R.PVCS, "default", {
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}})
            body = simple_pod("claims", ["sh", "-c", "echo hi > /data/f; exec sleep 60"],
                              nodeName="node-1", securityContext={"runAsUser": 1000,
                                                                  "fsGroup": 1000},
                              volumes=[{"name": "d", "persistentVolumeClaim": {
                                  "claimName": "data"}}],
                              container={"volumeMounts": [{"name": "d", "mountPath": "/data"}],
                                         "readinessProbe": {"exec": {"command": [
                                             "cat", "/data/f"]}, "periodSeconds": 1}})
            c.registry.create(R.PODS, "default", body)
            await wait_for(c, lambda: container_status(c, "claims").get("state"), 5, "status")
            assert container_status(c, "claims")["state"] == {
                "waiting": {"reason": "ContainerCreating"}}
            assert "podIP" not in pod(c, "claims")["status"]  # no sandbox before volumes
            # bind the claim by hand (what the volume controller does)
            volume_dir = tmp_path / "pv-data"
            c.registry.create(R.PVS, "", {
                "metadata": {"name": "pv-data"},
                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                         "hostPath": {"path": str(volume_dir)},
                         "claimRef": {"namespace": "default", "name": "data"}}})

            def bind(claim: dict) -> None:
                claim["spec"]["volumeName"] = "pv-data"

            def bound(claim: dict) -> None:
                claim["status"] = {"phase": "Bound"}

            c.registry.mutate(R.PVCS, "default", "data", bind)
            c.registry.mutate(R.PVCS, "default", "data", bound, subresource="status")
            await wait_for(c, lambda: container_status(c, "claims").get("ready"), 10, "ready")
            assert (volume_dir / "f").read_text() == "hi\n"
            assert (volume_dir / "f").stat().st_gid == 1000

    asyncio.run(scenario())
