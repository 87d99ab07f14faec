"""`localkube node stop|start` on a real `localkube up` with kubelets (nginx-slim pods).

Checks, with `--node-monitor-grace-period 2s`, `--node-monitor-period 200ms` and 4 s
default tolerations:
- the CLI: one line and a non-zero exit for an unknown node and when nothing runs;
- stop: every container of the node is killed at once (its pod address refuses connections)
  while the pod objects stay; kubectl shows the node `NotReady`, then the evicted pod
  `Terminating`; a pod tolerating `unreachable` forever stays;
- `kubectl delete pod web-0 --force --grace-period=0`: web-0 comes back on another node;
- start: the terminating pod is finished by the kubelet (object gone, containers never
  started again), the tolerating pod runs again with restartCount 1 and lastState
  `Unknown`/255, the old web-0 address stays dead, and the node is Ready without taints.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.localkube.cluster_fixtures import (
    Kubectl,
    PodWatch,
    api_client,
    is_ready,
    start_localkube,
)
from tests.localkube.conftest import REPO, ControlPlane, stop_control_plane

pytestmark = pytest.mark.slow

IMAGE = "registry.k8s.io/nginx-slim:0.8"
FLAGS = ("--node-monitor-grace-period", "2s", "--node-monitor-period", "200ms",
         "--default-not-ready-toleration-seconds", "4",
         "--default-unreachable-toleration-seconds", "4")
WAIT = 40.0
WEB = f"""
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: web}}
spec:
  serviceName: web
  replicas: 2
  podManagementPolicy: Parallel
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers: [{{name: nginx, image: "{IMAGE}"}}]
"""


def bare_pod(name: str, node: str, forever: bool) -> str:
    tolerations = ('  tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, '
                   'effect: NoExecute}]\n') if forever else ""
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n"
            f"  nodeName: {node}\n  terminationGracePeriodSeconds: 5\n{tolerations}"
            f"  containers: [{{name: nginx, image: \"{IMAGE}\"}}]\n")


def localkube(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localkube", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))


def serves(ip: str, port: int = 80) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=1):
            return True
    except OSError:
        return False


def condition(obj: dict, kind: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or []
                 if c.get("type") == kind), {})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlPlane, Any]]:
    if os.geteuid() != 0:
        pytest.skip("localkube's kubelets run containers in Linux namespaces: needs root")
    cp = start_localkube(tmp_path_factory.mktemp("node-power"), kubelets=True, extra=FLAGS)
    api = api_client(cp)
    try:
        yield cp, api
    finally:
        api.close()
        stop_control_plane(cp, timeout=60)


def test_cli_without_a_running_instance(tmp_path: Path) -> None:
    result = localkube("node", "stop", "node-1", "--state-dir", str(tmp_path))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"localkube: not running (state dir {tmp_path.resolve()})"]


def test_stop_evict_force_delete_start(cluster: tuple[ControlPlane, Any]) -> None:
    cp, api = cluster
    kubectl = Kubectl(cp)
    watch = PodWatch(api).start()
    state = ["--state-dir", str(cp.state_dir)]
    try:
        unknown = localkube("node", "stop", "node-99", *state)
        assert unknown.returncode != 0
        assert unknown.stderr.strip().splitlines() == ['localkube: nodes "node-99" not found']

        kubectl("apply", "-f", "-", input=WEB)
        watch.wait(lambda: all(is_ready(p) for p in (watch.pods.get("web-0"),
                                                     watch.pods.get("web-1")) if p)
                   and {"web-0", "web-1"} <= set(watch.pods), WAIT, "web-0 and web-1 ready")
        old = watch.pods["web-0"]
        lost = old["spec"]["nodeName"]
        kubectl("apply", "-f", "-", input=bare_pod("solo", lost, forever=True))
        kubectl("apply", "-f", "-", input=bare_pod("doomed", lost, forever=False))
        watch.wait(lambda: all(is_ready(watch.pods.get(n) or {}) for n in ("solo", "doomed")),
                   WAIT, "solo and doomed ready")
        old_ip = old["status"]["podIP"]
        solo_ip = watch.pods["solo"]["status"]["podIP"]
        assert serves(old_ip) and serves(solo_ip)

        stopped = localkube("node", "stop", lost, *state)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stderr.strip() == f"localkube: node {lost} stopped"
        assert not serves(old_ip) and not serves(solo_ip)  # killed before the CLI returned
        assert watch.pods["web-0"]["metadata"]["uid"] == old["metadata"]["uid"]

        def node_ready() -> str:
            return str(condition(api_node(api, lost), "Ready").get("status"))

        watch.wait(lambda: not is_ready(watch.pods["solo"]), WAIT, "solo marked not ready")
        assert node_ready() == "Unknown"
        rows = {line.split()[0]: line.split()[1]
                for line in kubectl("get", "nodes").stdout.splitlines()[1:]}
        assert rows[lost] == "NotReady"
        assert [s for n, s in rows.items() if n != lost] == ["Ready"] * 3

        watch.wait(lambda: watch.pods["web-0"]["metadata"].get("deletionTimestamp")
                   and watch.pods["doomed"]["metadata"].get("deletionTimestamp"), WAIT,
                   "web-0 and doomed evicted")
        pods = {line.split()[0]: line.split()[2]
                for line in kubectl("get", "pods").stdout.splitlines()[1:]}
        assert pods["web-0"] == "Terminating" and pods["doomed"] == "Terminating"
        assert not watch.pods["solo"]["metadata"].get("deletionTimestamp")

        forced = kubectl("delete", "pod", "web-0", "--force", "--grace-period=0")
        assert 'pod "web-0" force deleted' in forced.stdout
        watch.wait(lambda: (p := watch.pods.get("web-0")) is not None
                   and p["metadata"]["uid"] != old["metadata"]["uid"] and is_ready(p),
                   WAIT, "a new web-0")
        assert watch.pods["web-0"]["spec"]["nodeName"] != lost
        started_doomed = len(events(api, "doomed", "Started"))

        started = localkube("node", "start", lost, *state)
        assert started.returncode == 0, started.stderr
        watch.wait(lambda: "doomed" not in watch.pods, WAIT, "doomed finished by its kubelet")
        watch.wait(lambda: is_ready(watch.pods["solo"]), WAIT, "solo running again")
        solo = watch.pods["solo"]["status"]["containerStatuses"][0]
        assert solo["restartCount"] == 1
        assert solo["lastState"]["terminated"]["exitCode"] == 255
        assert solo["lastState"]["terminated"]["reason"] == "Unknown"
        assert len(events(api, "doomed", "Started")) == started_doomed
        assert not serves(old_ip) or old_ip == watch.pods["solo"]["status"]["podIP"]
        assert not (cp.state_dir / "kubelet" / lost / "pods" / old["metadata"]["uid"]).exists()
        wait_node(api, lost, lambda n: condition(n, "Ready").get("status") == "True"
                  and not n["spec"].get("taints"), "node ready again without taints")
    finally:
        watch.stop()
        kubectl.close()


def api_node(api: Any, name: str) -> dict:
    from kubernetes import client

    core = client.CoreV1Api(api)
    return dict(api.sanitize_for_serialization(core.read_node(name)))


def events(api: Any, name: str, reason: str) -> list[dict]:
    from kubernetes import client

    core = client.CoreV1Api(api)
    items = api.sanitize_for_serialization(core.list_namespaced_event("default"))["items"]
    return [e for e in items if e["involvedObject"]["name"] == name and e["reason"] == reason]


def wait_node(api: Any, name: str, predicate: Any, what: str) -> dict:
    """Watch one node until `predicate(node)` holds (event-driven, one deadline)."""
    from kubernetes import client, watch

    core = client.CoreV1Api(api)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        node = api_node(api, name)
        if predicate(node):
            return node
        stream = watch.Watch().stream(
            core.list_node, field_selector=f"metadata.name={name}", deserialize=False,
            resource_version=node["metadata"]["resourceVersion"],
            timeout_seconds=max(1, int(deadline - time.monotonic())))
        for event in stream:
            if predicate(event["object"]):
                return dict(event["object"])
    raise AssertionError(f"timed out after {WAIT}s waiting for {what}: {api_node(api, name)}")
