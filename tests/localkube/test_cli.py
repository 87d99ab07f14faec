"""The `localkube` command: up/down lifecycle, kubeconfig, and one-line failures."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from localkube import preflight
from tests.localkube.conftest import REPO, start_control_plane, stop_control_plane

pytestmark = pytest.mark.slow

ENV = dict(os.environ, PYTHONPATH=str(REPO))


def localkube(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "localkube", *args], cwd=REPO,
                          env=env or ENV, capture_output=True, text=True, timeout=60, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_up_writes_a_private_kubeconfig_before_ready(tmp_path: Path) -> None:
    port = free_port()
    state, config = tmp_path / "state", tmp_path / "kube" / "config"
    proc = subprocess.Popen(
        [sys.executable, "-m", "localkube", "up", "--no-kubelets", "--nodes", "2", "--port",
         str(port), "--state-dir", str(state), "--kubeconfig", str(config)],
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ctx: ssl.SSLContext | None = None
        deadline = time.monotonic() + 30
        while True:  # poll /readyz from the first moment the port answers
            assert time.monotonic() < deadline and proc.poll() is None
            if ctx is None and (state / "pki" / "ca.crt").exists():
                ctx = ssl.create_default_context(cafile=str(state / "pki" / "ca.crt"))
            if ctx is not None:
                try:
                    with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz",
                                                context=ctx, timeout=2) as resp:
                        if resp.read() == b"ok":
                            break
                except (urllib.error.URLError, ConnectionError):
                    pass  # not listening yet, or answering 500 (not ready)
            time.sleep(0.01)
        # ready implies both kubeconfigs exist, complete, and private
        for path in (config, state / "kubeconfig"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            doc = yaml.safe_load(path.read_text())
            assert doc["current-context"] == "localkube"
            assert doc["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{port}"
            assert doc["users"][0]["user"]["token"]
        assert int((state / "localkube.pid").read_text()) == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert not (state / "localkube.pid").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kubeconfig_is_merged_not_clobbered(tmp_path: Path) -> None:
    config = tmp_path / "base" / "kubeconfig"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "other",
        "clusters": [{"name": "other", "cluster": {"server": "https://example.invalid"}}],
        "users": [{"name": "other", "user": {"token": "x"}}],
        "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}]}))
    cp = start_control_plane(tmp_path / "base")
    try:
        doc = yaml.safe_load(config.read_text())
        assert [c["name"] for c in doc["contexts"]] == ["other", "localkube"]
        assert doc["current-context"] == "localkube"
    finally:
        assert stop_control_plane(cp) == 0


def test_sigint_also_stops_cleanly(tmp_path: Path) -> None:
    cp = start_control_plane(tmp_path)
    cp.process.send_signal(signal.SIGINT)
    assert cp.process.wait(20) == 0


def test_down_stops_a_running_instance(tmp_path: Path) -> None:
    cp = start_control_plane(tmp_path)
    try:
        res = localkube("down", "--state-dir", str(cp.state_dir))
        assert res.returncode == 0, res.stderr
        assert res.stderr.strip() == f"localkube: stopped (pid {cp.process.pid})"
        assert cp.process.wait(5) == 0
    finally:
        stop_control_plane(cp)
    again = localkube("down", "--state-dir", str(cp.state_dir))
    assert again.returncode == 0
    assert again.stderr.strip() == f"localkube: not running (state dir {cp.state_dir})"


def test_second_up_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    cp = start_control_plane(tmp_path)
    try:
        res = localkube("up", "--no-kubelets", "--state-dir", str(cp.state_dir))
        assert res.returncode == 1
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            f"localkube: already running on {cp.state_dir} (pid {cp.process.pid})")
    finally:
        assert stop_control_plane(cp) == 0


def test_concurrent_instances_get_different_subnets(tmp_path: Path) -> None:
    first = start_control_plane(tmp_path / "a")
    second = start_control_plane(tmp_path / "b")
    try:
        subnets = {cp.log().split("pods in ")[1].split(",")[0] for cp in (first, second)}
        assert len(subnets) == 2
    finally:
        assert stop_control_plane(first) == 0
        assert stop_control_plane(second) == 0


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = localkube("up", "--no-kubelets", "--port", str(port), "--state-dir",
                        str(tmp_path / "state"))
    assert res.returncode == 1
    assert res.stderr.strip() == (f"localkube: cannot listen on 127.0.0.1:{port}: "
                                  "address already in use")


@pytest.mark.parametrize("args", [["up", "--nodes", "0"], ["up", "--node-memory", "lots"],
                                  ["up", "--subnet", "10.0.0.0/16"], ["up", "--port", "99999"],
                                  ["sideways"]])
def test_bad_flags_are_argparse_errors(args: list[str]) -> None:
    res = localkube(*args)
    assert res.returncode == 2
    last = res.stderr.splitlines()[-1]
    assert last.startswith("localkube") and ": error: " in last
    assert "Traceback" not in res.stderr


def test_preflight_reports_every_missing_tool_on_its_own_line(tmp_path: Path) -> None:
    lines = preflight.problems(path="", euid=0, zookeeper_jar=tmp_path / "nope.jar")
    assert lines == [
        "localkube: unshare is not installed: run 'apt-get install -y util-linux'",
        "localkube: nsenter is not installed: run 'apt-get install -y util-linux'",
        "localkube: setpriv is not installed: run 'apt-get install -y util-linux'",
        "localkube: Java is not installed: run 'apt-get install -y default-jre-headless'",
        "localkube: gcc is not installed: run 'apt-get install -y gcc'",
        f"localkube: ZooKeeper is not installed ({tmp_path / 'nope.jar'} is missing): "
        "run 'apt-get install -y zookeeper'",
    ]
    assert preflight.problems(euid=1000)[0].startswith("localkube: kubelets need root")


def test_up_with_an_empty_path_fails_preflight(tmp_path: Path) -> None:
    """A real condition: no tools on PATH. Exit 2, one line per problem, no traceback."""
    res = localkube("up", "--state-dir", str(tmp_path / "state"), env=dict(ENV, PATH=""))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert "localkube: Java is not installed: run 'apt-get install -y default-jre-headless'" in (
        lines)
    assert all(line.startswith("localkube: ") for line in lines)
    assert not (tmp_path / "state").exists()  # nothing started


def _nobody_can_run_python() -> bool:
    if os.geteuid() != 0:
        return False
    probe = subprocess.run([sys.executable, "-c", "import localkube"], cwd=REPO, env=ENV,
                           user=65534, group=65534, capture_output=True, check=False) \
        if os.access(sys.executable, os.X_OK) else None
    return probe is not None and probe.returncode == 0


def test_up_as_non_root_fails_preflight(tmp_path: Path) -> None:
    """A real non-root user (nobody), when this interpreter and checkout are readable by it."""
    try:
        runnable = _nobody_can_run_python()
    except PermissionError:
        runnable = False
    if not runnable:
        pytest.skip("needs root, and a Python and checkout that user nobody can read")
    tmp_path.chmod(0o777)
    res = subprocess.run([sys.executable, "-m", "localkube", "up", "--state-dir",
                          str(tmp_path / "state")], cwd=REPO, env=ENV, capture_output=True,
                         text=True, timeout=60, user=65534, group=65534)
    assert res.returncode == 2, res.stderr
    assert res.stderr.splitlines()[0].startswith("localkube: kubelets need root")
