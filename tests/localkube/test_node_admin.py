"""The admin endpoint behind `localkube node stop|start`, on a control plane without kubelets.

Checks: only the token may call it, only POST, only `/localkube/v1/nodes/{name}/stop|start`
(404/405 Status otherwise, never a crash); an unknown node is a NotFound Status; stop and
start answer Success (also when repeated); the stopped node turns NotReady after the grace
period and Ready again after start, as `kubectl wait` sees it; every node has its Lease.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

import pytest

from tests.localkube.conftest import ControlPlane

pytestmark = pytest.mark.slow


def kubectl(cp: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, KUBECONFIG=str(cp.kubeconfig)))


def test_admin_endpoint(make_control_plane: Callable[..., ControlPlane]) -> None:
    cp = make_control_plane("--node-monitor-grace-period", "1s", "--node-monitor-period", "200ms")
    base = "/localkube/v1/nodes"
    assert cp.request("POST", f"{base}/node-2/stop", token="").status == 401
    assert cp.request("GET", f"{base}/node-2/stop").json()["code"] == 405
    for path in (f"{base}/node-2/reboot", f"{base}/node-2", "/localkube/v1/pods/x/stop",
                 f"{base}//stop"):
        reply = cp.request("POST", path)
        assert (reply.status, reply.json()["reason"]) == (404, "NotFound"), path
    missing = cp.request("POST", f"{base}/node-9/stop").json()
    assert (missing["code"], missing["message"]) == (404, 'nodes "node-9" not found')

    stopped = cp.request("POST", f"{base}/node-2/stop")
    assert stopped.status == 200
    assert stopped.json()["status"] == "Success"
    assert stopped.json()["message"] == "node node-2 stopped"
    assert cp.request("POST", f"{base}/node-2/stop").json()["message"] == \
        "node node-2 was already stopped"
    waited = kubectl(cp, "wait", "--for=condition=Ready=Unknown", "node/node-2", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr
    rows = kubectl(cp, "get", "nodes", "--no-headers").stdout.split("\n")
    assert [r.split()[1] for r in rows if r] == ["Ready", "NotReady", "Ready", "Ready"]

    assert cp.request("POST", f"{base}/node-2/start").json()["message"] == "node node-2 started"
    waited = kubectl(cp, "wait", "--for=condition=Ready", "node/node-2", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr
    leases = kubectl(cp, "get", "leases", "-n", "kube-node-lease", "--no-headers").stdout
    assert [line.split()[:2] for line in leases.splitlines()] == [
        [f"node-{i}", f"node-{i}"] for i in range(1, 5)]
