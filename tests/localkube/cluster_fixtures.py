"""Helpers for the acceptance tests: private localkube instances, kubectl bound to one, a
kubelet stand-in for clusters without kubelets, and a pod watch to wait on.

Every wait here is event-driven: `PodWatch` re-checks its predicate on every watch event
the API server sends (the official client's `Watch`), under one deadline.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from localkube import kubeconfig
from tests.localkube.conftest import (
    REPO,
    ControlPlane,
    KubectlError,
    KubectlResult,
    stop_control_plane,
)

MANIFEST = REPO / "harness" / "manifests" / "zookeeper.yaml"
NS = "default"
ZK_PODS = ("zk-0", "zk-1", "zk-2")


# -- localkube processes -----------------------------------------------------------------------


def start_localkube(base: Path, *, kubelets: bool, nodes: int = 4,
                    timeout: float = 60.0, extra: tuple[str, ...] = ()) -> ControlPlane:
    """`python -m localkube up` (with or without kubelets) on a private state directory.

    Its log (stderr) is copied to `<base>/localkube.log` by a thread; the wait ends on the
    line `up` logs once it serves requests with the kubeconfig written ("ready at ...").
    """
    base.mkdir(parents=True, exist_ok=True)
    state_dir, config, log_file = base / "state", base / "kubeconfig", base / "localkube.log"
    argv = [sys.executable, "-m", "localkube", "up", "--nodes", str(nodes), "--port", "0",
            "--kubeconfig", str(config), "--state-dir", str(state_dir)]
    if not kubelets:
        argv.append("--no-kubelets")
    argv.extend(extra)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    cp = ControlPlane(process, state_dir, config, log_file)
    ready = threading.Event()

    def copy_log() -> None:
        assert process.stderr is not None
        with open(log_file, "wb") as out:
            for line in process.stderr:
                out.write(line)
                out.flush()
                if b" ready at https://" in line:
                    ready.set()
        ready.set()  # EOF: it exited

    threading.Thread(target=copy_log, name="localkube-log", daemon=True).start()
    try:
        if not ready.wait(timeout) or process.poll() is not None:
            raise RuntimeError(f"localkube up did not become ready (exit {process.poll()}):\n"
                               f"{cp.log()}")
        cp.url, cp.token, ca = kubeconfig.read(config)
        cp.ca_file = base / "ca.crt"
        cp.ca_file.write_bytes(ca)
    except BaseException:
        stop_control_plane(cp)
        raise
    return cp


def api_client(cp: ControlPlane) -> Any:
    """The official Python client, configured from the instance's kubeconfig."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(cp.kubeconfig))


class Kubectl:
    """The real kubectl against one instance (own discovery cache, so instances never mix)."""

    def __init__(self, cp: ControlPlane) -> None:
        binary = shutil.which("kubectl")
        if binary is None:
            pytest.skip("kubectl is not installed")
        self.binary = binary
        self.cache = Path(tempfile.mkdtemp(prefix="kubectl-cache-"))
        self.env = dict(os.environ, KUBECONFIG=str(cp.kubeconfig))

    def argv(self, *args: str) -> list[str]:
        return [self.binary, "--cache-dir", str(self.cache), *args]

    def __call__(self, *args: str, check: bool = True, timeout: float = 60.0,
                 input: str | None = None) -> KubectlResult:
        proc = subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env,
                              timeout=timeout, input=input)
        result = KubectlResult(proc.stdout, proc.stderr, proc.returncode)
        if check and proc.returncode != 0:
            raise KubectlError(f"kubectl {' '.join(args)} exited {proc.returncode}:\n"
                               f"{proc.stdout}\n{proc.stderr}")
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """A long-running kubectl (`get -w`, `rollout status`); stdout is line-buffered text."""
        return subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env, bufsize=1)

    def close(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)


# -- pod state ---------------------------------------------------------------------------------


def is_ready(pod: dict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def restarts(pod: dict) -> int:
    return sum(int(c.get("restartCount") or 0)
               for c in (pod.get("status") or {}).get("containerStatuses") or [])


@dataclass(frozen=True)
class PodEvent:
    """One watch event for a pod, reduced to what ordering assertions use."""

    type: str
    name: str
    uid: str
    phase: str
    ready: bool
    terminating: bool
    node: str
    revision: str
    restarts: int
    obj: dict = field(repr=False, compare=False)


class PodWatch:
    """A background watch of the namespace's pods: a live cache, an ordered event log, and
    `wait()` that re-checks a predicate after every event. `on_event` hooks (the kubelet
    stand-in) run on the watch thread."""

    def __init__(self, api: Any, namespace: str = NS) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(api)
        self.namespace = namespace
        self.pods: dict[str, dict] = {}
        self.events: list[PodEvent] = []
        self.hooks: list[Callable[[str, dict], None]] = []
        self.errors: list[BaseException] = []
        self._cond = threading.Condition()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pod-watch", daemon=True)

    def start(self) -> PodWatch:
        listed = self.core.api_client.sanitize_for_serialization(
            self.core.list_namespaced_pod(self.namespace))
        with self._cond:
            for pod in listed["items"]:
                self.pods[pod["metadata"]["name"]] = pod
        self._rv = listed["metadata"]["resourceVersion"]
        self._thread.start()
        for pod in list(self.pods.values()):
            self._fire("ADDED", pod)
        return self

    def _run(self) -> None:
        from kubernetes import watch

        while not self._stopped.is_set():
            w = watch.Watch()
            try:
                for event in w.stream(self.core.list_namespaced_pod, self.namespace,
                                      resource_version=self._rv, timeout_seconds=1,
                                      deserialize=False):
                    if self._stopped.is_set():
                        w.stop()
                        break
                    self._handle(event["type"], event["object"])
            except Exception as exc:  # a broken stream would hang every wait: surface it
                if self._stopped.is_set():
                    return
                with self._cond:
                    self.errors.append(exc)
                    self._cond.notify_all()
                return

    def _handle(self, kind: str, pod: dict) -> None:
        meta = pod["metadata"]
        self._rv = meta["resourceVersion"]
        labels = meta.get("labels") or {}
        event = PodEvent(kind, meta["name"], meta["uid"], phase(pod), is_ready(pod),
                         bool(meta.get("deletionTimestamp")), pod["spec"].get("nodeName") or "",
                         labels.get("controller-revision-hash", ""), restarts(pod), pod)
        with self._cond:
            if kind == "DELETED":
                if self.pods.get(meta["name"], {}).get("metadata", {}).get("uid") == meta["uid"]:
                    del self.pods[meta["name"]]
            else:
                self.pods[meta["name"]] = pod
            self.events.append(event)
            self._cond.notify_all()
        self._fire(kind, pod)

    def _fire(self, kind: str, pod: dict) -> None:
        for hook in self.hooks:
            try:
                hook(kind, pod)
            except Exception as exc:
                with self._cond:
                    self.errors.append(exc)
                    self._cond.notify_all()

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Re-evaluate `predicate` (under the cache lock) after every event until truthy."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self.errors:
                    raise AssertionError(f"pod watch failed: {self.errors[0]!r}")
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = {n: (phase(p), is_ready(p), p["spec"].get("nodeName"))
                             for n, p in self.pods.items()}
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                                         f"pods: {names}")
                self._cond.wait(remaining)

    def mark(self) -> int:
        """Position in the event log, to look only at what happens after it."""
        with self._cond:
            return len(self.events)

    def since(self, mark: int, name: str | None = None) -> list[PodEvent]:
        with self._cond:
            return [e for e in self.events[mark:] if name is None or e.name == name]

    def snapshot(self) -> dict[str, dict]:
        """The current pods by name."""
        with self._cond:
            return dict(self.pods)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(10)


# -- the kubelet stand-in ----------------------------------------------------------------------


class KubeletStandIn:
    """What a kubelet would write, through the API only (as Kubernetes' integration tests do):
    a bound Pending pod becomes Running (Ready unless `manual` or held), and a terminating
    pod is finished with a grace-0 DELETE carrying its UID as precondition."""

    def __init__(self, watch: PodWatch, *, manual: bool = False) -> None:
        from kubernetes import client

        self.core = watch.core
        self.client = client
        self.manual = manual
        self.hold: set[str] = set()
        self._started: set[str] = set()  # uids already reported Running
        self._finished: set[str] = set()
        self._lock = threading.Lock()
        watch.hooks.append(self.on_event)

    def on_event(self, kind: str, pod: dict) -> None:
        meta = pod["metadata"]
        if kind == "DELETED" or not pod["spec"].get("nodeName"):
            return
        uid = meta["uid"]
        if meta.get("deletionTimestamp"):
            with self._lock:
                if uid in self._finished:
                    return
                self._finished.add(uid)
            with contextlib.suppress(self.client.ApiException):  # already gone
                self.core.delete_namespaced_pod(
                    meta["name"], meta["namespace"], grace_period_seconds=0,
                    body=self.client.V1DeleteOptions(
                        grace_period_seconds=0, preconditions=self.client.V1Preconditions(uid=uid)))
            return
        with self._lock:
            if uid in self._started:
                return
            self._started.add(uid)
        ready = not self.manual and meta["name"] not in self.hold
        with contextlib.suppress(self.client.ApiException):  # deleted meanwhile
            self.core.patch_namespaced_pod_status(meta["name"], meta["namespace"],
                                                  running_status(pod, ready))

    def set_ready(self, name: str, ready: bool = True, namespace: str = NS) -> None:
        pod = self.core.api_client.sanitize_for_serialization(
            self.core.read_namespaced_pod(name, namespace))
        self.core.patch_namespaced_pod_status(name, namespace, running_status(pod, ready))


def running_status(pod: dict, ready: bool) -> dict:
    """A strategic-merge patch of `status`: Running, an address, Ready as given."""
    name = pod["metadata"]["name"]
    ordinal = int(name.rsplit("-", 1)[-1]) if name.rsplit("-", 1)[-1].isdigit() else 0
    ip = (pod.get("status") or {}).get("podIP") or f"127.77.0.{10 + ordinal % 200}"
    value = "True" if ready else "False"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    containers = pod["spec"]["containers"]
    return {"status": {
        "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "127.0.0.1",
        "startTime": (pod.get("status") or {}).get("startTime") or now,
        "conditions": [{"type": t, "status": value, "lastTransitionTime": now}
                       for t in ("Ready", "ContainersReady")],
        "containerStatuses": [{
            "name": c["name"], "image": c["image"], "imageID": "", "ready": ready,
            "restartCount": 0, "started": True, "state": {"running": {"startedAt": now}},
        } for c in containers],
    }}


@contextlib.contextmanager
def pod_watch(api: Any, namespace: str = NS) -> Iterator[PodWatch]:
    watch = PodWatch(api, namespace).start()
    try:
        yield watch
    finally:
        watch.stop()


class LineStream:
    """The stdout lines of a running kubectl, read on a thread; `expect` waits for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._thread = threading.Thread(target=self._read, name="kubectl-lines", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def expect(self, predicate: Callable[[str], bool], timeout: float, what: str,
               start: int = 0) -> int:
        """Index of the first line from `start` on that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(start, len(self.lines)):
                    if predicate(self.lines[i]):
                        return i
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    raise AssertionError(f"kubectl never printed {what}; got {self.lines}")
                self._cond.wait(remaining)

    def finish(self, timeout: float = 10.0) -> tuple[list[str], str]:
        """Wait for kubectl to exit by itself; returns (all lines, stderr)."""
        self.proc.wait(timeout)
        self._thread.join(timeout)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        return self.lines, err

    def close(self) -> list[str]:
        """Stop kubectl (a `-w` never exits by itself) and return every line it printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)
        self._thread.join(10)
        return self.lines
