"""The whole stack: `localkube up` with its kubelets, a pod scheduled and started by them,
then exec, logs and port-forward through the API server with kubectl and the Python client.
This is the check that the kubelets' `cluster.containers` handles fit the handlers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.stream import portforward, stream

from tests.runtime.conftest import require_runtime

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
    "spec": {"containers": [{
        "name": "nginx", "image": "registry.k8s.io/nginx-slim:0.8",
        # Ready means port 80 is served: the port-forward below must not race the bind.
        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1},
    }]},
}


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_runtime()
    base = tmp_path_factory.mktemp("localkube")
    path, log = base / "kubeconfig", base / "localkube.log"
    argv = [sys.executable, "-m", "localkube", "up", "--nodes", "1", "--port", "0",
            "--kubeconfig", str(path), "--state-dir", str(base / "state"),
            "--log-file", str(log)]
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (base / "state" / "localkube.pid").exists():  # after the kubeconfig
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "localkube up did not start"
            time.sleep(0.05)
        yield path
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def test_exec_logs_and_port_forward_on_a_kubelet_pod(kubeconfig: Path) -> None:
    api = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
    api.create_namespaced_pod("default", POD)
    for event in watch.Watch().stream(api.list_namespaced_pod, "default",
                                      field_selector="metadata.name=web", timeout_seconds=60):
        if any(c.ready for c in event["object"].status.container_statuses or []):
            break
    else:
        pytest.fail("the pod never turned Ready (port 80 served)")

    kubectl = subprocess.run(["kubectl", "exec", "web", "--", "sh", "-c", "echo out; exit 3"],
                             capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, KUBECONFIG=str(kubeconfig)))
    assert (kubectl.returncode, kubectl.stdout) == (3, "out\n")
    assert kubectl.stderr == "command terminated with exit code 3\n"

    resp = stream(api.connect_get_namespaced_pod_exec, "web", "default", command=["hostname"],
                  stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False)
    resp.run_forever(timeout=30)
    assert (resp.read_stdout(), resp.returncode) == ("web\n", 0)

    pf = portforward(api.connect_get_namespaced_pod_portforward, "web", "default", ports="80")
    sock = pf.socket(80)
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    assert reply.startswith(b"HTTP/1.0 200")

    # the web server logs the request: follow the log until that line shows up
    for line in watch.Watch().stream(api.read_namespaced_pod_log, "web", "default",
                                     _request_timeout=30):
        if '"GET / HTTP/1.0" 200' in line:
            break
    assert api.read_namespaced_pod_log("web", "default", tail_lines=1).count("\n") == 1
