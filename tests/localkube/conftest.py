"""Fixtures for localkube's API and CLI tests: a real `localkube up` (no kubelets), the
official Python client, and the real kubectl, all pointed at it through its kubeconfig.

Also usable as a plugin (`-p tests.localkube.conftest`) when conftest files are disabled.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import urllib3
from hypothesis import HealthCheck, settings

from localkube import kubeconfig

# Property tests check what is computed, not how fast: on a loaded 2-core CI machine a
# descheduled example must not fail on Hypothesis's 200 ms deadline.
settings.register_profile("zkdrill", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "zkdrill"))

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def pytest_configure(config: pytest.Config) -> None:
    # harness.plugin registers `slow` too; this keeps `--noconftest -p tests.localkube.conftest`
    # working when that plugin is not loaded.
    if not any(line.startswith("slow:") for line in config.getini("markers")):
        config.addinivalue_line("markers", "slow: starts localkube or real processes")


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class ControlPlane:
    """A running `localkube up` subprocess and how to reach it."""

    process: subprocess.Popen
    state_dir: Path
    kubeconfig: Path
    log_file: Path
    url: str = ""
    token: str = ""
    ca_file: Path = Path()
    _pool: urllib3.PoolManager | None = field(default=None, repr=False)

    @property
    def pool(self) -> urllib3.PoolManager:
        if self._pool is None:
            self._pool = urllib3.PoolManager(ca_certs=str(self.ca_file), maxsize=4, retries=False)
        return self._pool

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | dict | list | None = None,
        *,
        headers: dict | None = None,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """A raw HTTP request (for what the official client cannot send: bad bodies, bad
        tokens, odd methods)."""
        hdrs = {"Authorization": f"Bearer {self.token if token is None else token}"}
        if token == "":
            hdrs.pop("Authorization")
        if isinstance(body, dict | list):
            body = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        resp = self.pool.request(method, self.url + path, body=body, headers=hdrs,
                                 timeout=timeout, preload_content=True, redirect=False)
        return Reply(resp.status, dict(resp.headers), resp.data)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


def start_control_plane(base: Path, *extra: str, timeout: float = START_TIMEOUT) -> ControlPlane:
    """Start `python -m localkube up --no-kubelets` and wait until /readyz says ok."""
    base.mkdir(parents=True, exist_ok=True)
    state_dir, config, log_file = base / "state", base / "kubeconfig", base / "localkube.log"
    argv = [sys.executable, "-m", "localkube", "up", "--no-kubelets", "--nodes", "4",
            "--port", "0", "--kubeconfig", str(config), "--state-dir", str(state_dir), *extra]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with open(log_file, "wb") as log:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=log)
    cp = ControlPlane(process, state_dir, config, log_file)
    try:
        deadline = time.monotonic() + timeout
        while not (state_dir / "localkube.pid").exists():  # written after the kubeconfigs
            if process.poll() is not None:
                raise RuntimeError(f"localkube up exited {process.returncode}:\n{cp.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no kubeconfig after {timeout}s:\n{cp.log()}")
            time.sleep(0.02)
        cp.url, cp.token, ca = kubeconfig.read(config)
        cp.ca_file = base / "ca.crt"
        cp.ca_file.write_bytes(ca)
        wait_ready(cp, deadline)
    except BaseException:
        stop_control_plane(cp)  # never leave a server behind
        raise
    return cp


def wait_ready(cp: ControlPlane, deadline: float) -> None:
    while True:
        try:
            if cp.request("GET", "/readyz", token="", timeout=2).body == b"ok":
                return
        except urllib3.exceptions.HTTPError:
            pass
        if cp.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"localkube never became ready:\n{cp.log()}")
        time.sleep(0.02)


def stop_control_plane(cp: ControlPlane, timeout: float = 20.0) -> int:
    """SIGTERM and wait; returns the exit code (kills it if it does not stop in time)."""
    if cp.process.poll() is None:
        cp.process.send_signal(signal.SIGTERM)
        try:
            cp.process.wait(timeout)
        except subprocess.TimeoutExpired:
            cp.process.kill()
            cp.process.wait()
            raise
    if cp._pool is not None:
        cp._pool.clear()
    return cp.process.returncode


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = start_control_plane(tmp_path_factory.mktemp("localkube"))
    yield cp
    code = stop_control_plane(cp)
    assert code == 0, f"localkube up exited {code} on SIGTERM:\n{cp.log()}"


@pytest.fixture
def make_control_plane(tmp_path: Path) -> Iterator[Callable[..., ControlPlane]]:
    """Start extra, test-private control planes (stopped at the end of the test)."""
    started: list[ControlPlane] = []

    def make(*extra: str) -> ControlPlane:
        cp = start_control_plane(tmp_path / f"cp{len(started)}", *extra)
        started.append(cp)
        return cp

    yield make
    for cp in started:
        stop_control_plane(cp)


@pytest.fixture(scope="session")
def api(control_plane: ControlPlane):
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(control_plane.kubeconfig))
    yield client
    client.close()


@dataclass
class KubectlResult:
    stdout: str
    stderr: str
    returncode: int


class KubectlError(AssertionError):
    pass


@pytest.fixture(scope="session")
def kubectl(control_plane: ControlPlane) -> Iterator[Callable[..., KubectlResult]]:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")
    cache = Path(tempfile.mkdtemp(prefix="kubectl-cache-"))
    env = dict(os.environ, KUBECONFIG=str(control_plane.kubeconfig))

    def run(*args: str, input: str | None = None, check: bool = True,
            timeout: float = 60.0) -> KubectlResult:
        proc = subprocess.run([binary, "--cache-dir", str(cache), *args], input=input,
                              capture_output=True, text=True, env=env, timeout=timeout)
        result = KubectlResult(proc.stdout, proc.stderr, proc.returncode)
        if check and proc.returncode != 0:
            raise KubectlError(f"kubectl {' '.join(args)} exited {proc.returncode}:\n"
                               f"{proc.stdout}\n{proc.stderr}")
        return result

    yield run
    shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture
def namespace(api) -> Iterator[str]:
    """A fresh namespace per test, so tests never see each other's objects."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    name = f"t-{os.urandom(4).hex()}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    with contextlib.suppress(client.ApiException):
        core.delete_namespace(name)


def pod_manifest(name: str, labels: dict | None = None, node: str | None = None,
                 scheduler: str | None = None) -> dict:
    """A one-container pod; `scheduler="none"` keeps localkube's scheduler away from it."""
    spec: dict = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    if scheduler:
        spec["schedulerName"] = scheduler
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": "t"}}, "spec": spec}

