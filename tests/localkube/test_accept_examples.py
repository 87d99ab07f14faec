"""Acceptance of the ensembles users deploy (harness/manifests/examples/): each example
manifest, unchanged, applied with the real kubectl to one localkube with kubelets.

Checks, per example (Bitnami chart, official image, Pravega operator): 3/3 pods Ready on
three different nodes, exactly one leader and two followers by `srvr`, a znode written on
one server read on another; plus what each relies on (Bitnami: Parallel creation, uid
1001 on a read-only root; official: the entrypoint's drop from root to `zookeeper`;
Pravega: three participants after dynamic reconfiguration). Then, with nginx-slim pods,
readOnlyRootFilesystem, runAsNonRoot and soft anti-affinity on a single eligible node.
Waits follow watch events (or re-run a command until its output says so) under deadlines.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.localkube.cluster_fixtures import (
    Kubectl,
    PodWatch,
    api_client,
    is_ready,
    start_localkube,
)
from tests.localkube.conftest import REPO, ControlPlane, KubectlResult, stop_control_plane
from tests.localkube.test_accept_kubelets import require_host

pytestmark = pytest.mark.slow

EXAMPLES = REPO / "harness" / "manifests" / "examples"
READY = 120.0  # Pravega: three members one after another, 10 s readiness delay each
QUORUM = 60.0  # a leader after 3/3 Ready: initLimit while peers' names appear
GONE = 60.0


@dataclass(frozen=True)
class Example:
    manifest: str
    statefulset: str

    @property
    def pods(self) -> list[str]:
        return [f"{self.statefulset}-{i}" for i in range(3)]


BITNAMI = Example("bitnami-zookeeper.yaml", "zookeeper")
OFFICIAL = Example("official-zookeeper.yaml", "zoo")
PRAVEGA = Example("pravega-zookeeper.yaml", "pravega-zk")


@dataclass
class Env:
    cp: ControlPlane
    kubectl: Kubectl
    watch: PodWatch

    def exec(self, pod: str, *command: str, check: bool = True,
             timeout: float = 60.0) -> KubectlResult:
        return self.kubectl("exec", pod, "--", *command, check=check, timeout=timeout)

    def wait(self, predicate: Callable[[dict[str, dict]], Any], timeout: float,
             what: str) -> Any:
        return self.watch.wait(lambda: predicate(self.watch.pods), timeout, what)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    require_host()
    cp = start_localkube(tmp_path_factory.mktemp("accept-examples"), kubelets=True)
    api = api_client(cp)
    kubectl = Kubectl(cp)
    watch = PodWatch(api).start()
    try:
        yield Env(cp, kubectl, watch)
    finally:
        watch.stop()
        kubectl.close()
        api.close()
        stop_control_plane(cp, timeout=60)


def until(run: Callable[[], KubectlResult], ok: Callable[[KubectlResult], bool],
          timeout: float, what: str) -> KubectlResult:
    """Re-run a command until its output is what we want (each run is an exec, or a JVM)."""
    deadline = time.monotonic() + timeout
    last: KubectlResult | None = None
    while time.monotonic() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            last = run()
            if ok(last):
                return last
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last}")


def all_ready(names: list[str]) -> Callable[[dict[str, dict]], bool]:
    def check(pods: dict[str, dict]) -> bool:
        return all(n in pods and is_ready(pods[n]) and not pods[n]["metadata"].get(
            "deletionTimestamp") for n in names)
    return check


def srvr(env: Env, pod: str) -> str:
    """`srvr` to the pod's own address, the one four-letter word every example whitelists."""
    ip = env.watch.pods[pod]["status"]["podIP"]
    return env.exec(pod, "bash", "-c", f"echo srvr | nc -q 1 -w 5 {ip} 2181", check=False,
                    timeout=20).stdout


def modes(env: Env, pods: list[str]) -> list[str]:
    out = []
    for pod in pods:
        text = srvr(env, pod)
        out.append(next((line.split(": ", 1)[1] for line in text.splitlines()
                         if line.startswith("Mode: ")), "?"))
    return sorted(out)


def deploy(env: Env, example: Example) -> int:
    mark = env.watch.mark()
    env.kubectl("apply", "-f", str(EXAMPLES / example.manifest))
    env.wait(all_ready(example.pods), READY, f"3/3 Ready of {example.statefulset}")
    return mark


def remove(env: Env, example: Example) -> None:
    env.kubectl("delete", "-f", str(EXAMPLES / example.manifest), "--wait=false")
    env.wait(lambda pods: not any(n in pods for n in example.pods), GONE,
             f"{example.statefulset}'s pods to be gone")
    env.kubectl("delete", "pvc", "--all", "--wait=false")


def check_ensemble(env: Env, example: Example) -> None:
    nodes = {env.watch.pods[n]["spec"]["nodeName"] for n in example.pods}
    assert len(nodes) == 3, f"replicas share nodes: {nodes}"
    until(lambda: KubectlResult(" ".join(modes(env, example.pods)), "", 0),
          lambda r: r.stdout == "follower follower leader", QUORUM, "one leader, two followers")
    assert "Zookeeper version: 3.8" in srvr(env, example.pods[0])
    path = f"/zkdrill-{example.statefulset}"
    env.exec(example.pods[0], "zkCli.sh", "create", path, "written-on-0", timeout=30)
    until(lambda: env.exec(example.pods[2], "zkCli.sh", "get", path, check=False, timeout=30),
          lambda r: "written-on-0" in r.stdout.splitlines(), 30, f"{path} on the third server")


def test_bitnami_chart(env: Env) -> None:
    mark = deploy(env, BITNAMI)
    try:
        events = env.watch.since(mark)
        first_ready = next(i for i, e in enumerate(events) if e.ready)
        created = {e.name for e in events[:first_ready] if e.type == "ADDED"}
        assert created == set(BITNAMI.pods), "Parallel: all pods exist before any is Ready"
        check_ensemble(env, BITNAMI)
        pod = BITNAMI.pods[1]
        assert env.exec(pod, "id", "-u").stdout.strip() == "1001"
        denied = env.exec(pod, "touch", "/opt/bitnami/zookeeper/bin/x", check=False)
        assert denied.returncode != 0 and "Read-only file system" in denied.stderr
        env.exec(pod, "touch", "/tmp/x", "/opt/bitnami/zookeeper/logs/x")  # emptyDirs
    finally:
        remove(env, BITNAMI)


def test_official_image(env: Env) -> None:
    deploy(env, OFFICIAL)
    try:
        check_ensemble(env, OFFICIAL)
        users = env.exec(OFFICIAL.pods[0], "ps", "-o", "user=", "-C", "java").stdout.split()
        assert users == ["zookeeper"]
        assert "ruok is not executed" in env.exec(
            OFFICIAL.pods[0], "bash", "-c", "echo ruok | nc -q 1 localhost 2181").stdout
    finally:
        remove(env, OFFICIAL)


def test_pravega_operator(env: Env) -> None:
    deploy(env, PRAVEGA)
    try:
        check_ensemble(env, PRAVEGA)
        config = env.exec(PRAVEGA.pods[0], "zkCli.sh", "config").stdout
        roles = [line.split(":")[3].split(";")[0] for line in config.splitlines()
                 if line.startswith("server.")]
        assert roles == ["participant"] * 3
    finally:
        remove(env, PRAVEGA)


# -- security context and scheduling, with nginx-slim -----------------------------------------


def nginx_pod(name: str, **spec: Any) -> str:
    import json

    container = {"name": "web", "image": "nginx-slim:0.8", **spec.pop("container", {})}
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"containers": [container], **spec}})


def test_read_only_root_filesystem_leaves_volumes_writable(env: Env) -> None:
    env.kubectl("apply", "-f", "-", input=nginx_pod(
        "rofs", volumes=[{"name": "scratch", "emptyDir": {}},
                         {"name": "mem", "emptyDir": {"medium": "Memory"}}],
        container={"securityContext": {"readOnlyRootFilesystem": True},
                   "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"},
                                    {"name": "mem", "mountPath": "/mem"}]}))
    try:
        env.wait(all_ready(["rofs"]), 60, "rofs Ready")
        for path in ("/usr/x", "/etc/x", "/tmp/x"):
            denied = env.exec("rofs", "touch", path, check=False)
            assert "Read-only file system" in denied.stderr, path
        env.exec("rofs", "touch", "/scratch/x", "/mem/x", "/dev/shm/x")
    finally:
        env.kubectl("delete", "pod", "rofs", "--wait=false")


def test_run_as_non_root_refuses_an_image_running_as_root(env: Env) -> None:
    env.kubectl("apply", "-f", "-", input=nginx_pod(
        "nonroot", securityContext={"runAsNonRoot": True}))
    try:
        def waiting(pods: dict[str, dict]) -> dict | None:
            statuses = (pods.get("nonroot", {}).get("status") or {}).get("containerStatuses")
            return ((statuses or [{}])[0].get("state") or {}).get("waiting")

        state = env.wait(lambda pods: (waiting(pods) or {}).get("reason") ==
                         "CreateContainerConfigError" and waiting(pods), 60,
                         "CreateContainerConfigError")
        uid = env.watch.pods["nonroot"]["metadata"]["uid"]
        assert state["message"] == ("container has runAsNonRoot and image will run as root "
                                    f'(pod: "nonroot_default({uid})", container: web)')
    finally:
        env.kubectl("delete", "pod", "nonroot", "--wait=false")


def test_soft_anti_affinity_shares_the_only_eligible_node(env: Env) -> None:
    import json

    labels = {"app": "soft"}
    template = json.loads(nginx_pod(
        "x", nodeSelector={"kubernetes.io/hostname": "node-2"},
        affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": labels},
                                               "topologyKey": "kubernetes.io/hostname"}}]}}))
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "soft"},
           "spec": {"replicas": 2, "serviceName": "soft", "podManagementPolicy": "Parallel",
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": template["spec"]}}}
    env.kubectl("apply", "-f", "-", input=json.dumps(sts))
    try:
        env.wait(all_ready(["soft-0", "soft-1"]), 60, "both replicas Ready")
        assert {env.watch.pods[n]["spec"]["nodeName"] for n in ("soft-0", "soft-1")} == {"node-2"}
    finally:
        env.kubectl("delete", "statefulset", "soft", "--wait=false")
