"""Benchmark localkube's kubelets: pod start-up, the tutorial ensemble, memory per server.

Measures, through the official Python client against a full `localkube up` (root needed):
- pod create → Running: from just before the POST until the client's watch sees phase
  Running, for pods without probes (`nginx-slim`); the first pod (which may build the
  image into the cache) is reported on its own;
- pod delete → gone, for the same pods (grace period 30 s; the server stops on SIGTERM);
- the tutorial manifest → 3/3 Ready, against the floor its probes allow with OrderedReady:
  3 x initialDelaySeconds (10 s);
- resident memory (VmRSS) of each ZooKeeper pod's processes (init, sh, the JVM) and of
  localkube itself.

Run: `python bench/bench_kubelet.py [--samples N]` from the repository root, as root.
Prints a table.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kubernetes import client, config, watch  # noqa: E402

NS = "default"
MANIFEST = REPO / "harness" / "manifests" / "zookeeper.yaml"
START_GOAL_MS = 2000.0
ENSEMBLE_SLACK_S = 5.0


class Cluster:
    """One `localkube up` (kubelets on) in a temporary directory."""

    def __init__(self, base: Path) -> None:
        self.state = base / "state"
        self.kubeconfig = base / "kubeconfig"
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localkube", "up", "--nodes", "4", "--port", "0",
             "--state-dir", str(self.state), "--kubeconfig", str(self.kubeconfig),
             "--log-file", str(base / "localkube.log")],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not (self.state / "localkube.pid").exists():
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise SystemExit(f"localkube up exited {self.proc.returncode}: {err.strip()}")
            if time.monotonic() > deadline:
                raise SystemExit("localkube up did not start within 60 s")
            time.sleep(0.01)  # the pid file is written once the API serves requests
        self.api = config.new_client_from_config(str(self.kubeconfig))
        self.core = client.CoreV1Api(self.api)

    def stop(self) -> None:
        self.api.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)


class PodEvents:
    """A watch of the namespace's pods on a thread; every event with its arrival time."""

    def __init__(self, core: client.CoreV1Api) -> None:
        self.core = core
        self.events: queue.Queue[tuple[float, str, dict]] = queue.Queue()
        self._watch = watch.Watch()
        listed = core.api_client.sanitize_for_serialization(core.list_namespaced_pod(NS))
        rv = listed["metadata"]["resourceVersion"]
        self._thread = threading.Thread(target=self._run, args=(rv,), daemon=True)
        self._thread.start()

    def _run(self, rv: str) -> None:
        try:
            for event in self._watch.stream(self.core.list_namespaced_pod, NS,
                                            resource_version=rv, deserialize=False):
                self.events.put((time.perf_counter(), event["type"], event["object"]))
        except Exception:  # the stream is cut when the benchmark stops
            pass

    def until(self, predicate: Any, timeout: float) -> tuple[float, dict]:
        """Arrival time and object of the first event satisfying predicate(type, pod)."""
        deadline = time.monotonic() + timeout
        while True:
            at, kind, pod = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if predicate(kind, pod):
                return at, pod

    def stop(self) -> None:
        self._watch.stop()


def is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def plain_pod(name: str) -> dict:
    return {"metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {"terminationGracePeriodSeconds": 30,
                     "containers": [{"name": "web", "image": "k8s.gcr.io/nginx-slim:0.8",
                                     "imagePullPolicy": "IfNotPresent"}]}}


def pod_start_and_stop(cluster: Cluster, events: PodEvents,
                       n: int) -> tuple[float, list[float], list[float]]:
    """(first pod's start ms, later pods' start ms, delete→gone ms)."""
    starts: list[float] = []
    stops: list[float] = []
    for i in range(n + 1):
        name = f"bench-{i}"
        t0 = time.perf_counter()
        cluster.core.create_namespaced_pod(NS, plain_pod(name))  # type: ignore[arg-type]
        at, _ = events.until(lambda _k, p, n=name: p["metadata"]["name"] == n and (
            p.get("status") or {}).get("phase") == "Running", 60)
        starts.append((at - t0) * 1000)
        t0 = time.perf_counter()
        cluster.core.delete_namespaced_pod(name, NS)
        at, _ = events.until(lambda k, p, n=name: k == "DELETED" and
                             p["metadata"]["name"] == n, 60)
        stops.append((at - t0) * 1000)
    return starts[0], starts[1:], stops


def ensemble(cluster: Cluster, events: PodEvents) -> dict[str, dict[str, float]]:
    """Seconds from the first POST to each pod's ADDED / Running / Ready."""
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    apps, policy = client.AppsV1Api(cluster.api), client.PolicyV1Api(cluster.api)
    creators: dict[str, Callable[..., Any]] = {
        "Service": cluster.core.create_namespaced_service,
        "PodDisruptionBudget": policy.create_namespaced_pod_disruption_budget,
        "StatefulSet": apps.create_namespaced_stateful_set}
    t0 = time.perf_counter()
    for doc in docs:
        creators[doc["kind"]](NS, doc)
    seen: dict[str, dict[str, float]] = defaultdict(dict)

    def record(kind: str, pod: dict) -> bool:
        name, at = pod["metadata"]["name"], time.perf_counter() - t0
        marks = seen[name]
        marks.setdefault("added", at)
        if (pod.get("status") or {}).get("phase") == "Running":
            marks.setdefault("running", at)
        if is_ready(pod):
            marks.setdefault("ready", at)
        return sum("ready" in seen[p] for p in ("zk-0", "zk-1", "zk-2")) == 3

    events.until(record, 120)
    return dict(seen)


def rss_by_pod(state_dir: Path) -> dict[str, tuple[int, int]]:
    """{pod: (KiB of all its processes, KiB of its JVM)} for this instance's containers."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if str(state_dir) not in (entry / "mountinfo").read_text():
                continue
            pod = (entry / "root" / "etc" / "hostname").read_text().strip()
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        kib = next((int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("VmRSS:")), 0)
        out[pod][0] += kib
        if b"QuorumPeerMain" in cmdline:
            out[pod][1] += kib
    return {pod: (total, jvm) for pod, (total, jvm) in sorted(out.items())}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10, help="pods to start and stop")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench_kubelet runs real containers: run it as root")
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="lk-bench-kubelet-") as tmp:
        cluster = Cluster(Path(tmp))
        events = PodEvents(cluster.core)
        try:
            first, starts, stops = pod_start_and_stop(cluster, events, args.samples)
            rows.append(("pod create → Running, first pod", f"{first:.0f} ms",
                         f"< {START_GOAL_MS:.0f} ms"))
            rows.append((f"pod create → Running, median / p90 / max of {len(starts)}",
                         f"{statistics.median(starts):.0f} / {pct(starts, 90):.0f} / "
                         f"{max(starts):.0f} ms", f"< {START_GOAL_MS:.0f} ms"))
            rows.append(("pod delete → gone (SIGTERM honoured), median / max",
                         f"{statistics.median(stops):.0f} / {max(stops):.0f} ms", ""))

            marks = ensemble(cluster, events)
            floor = 3 * 10.0
            total = max(m["ready"] for m in marks.values())
            rows.append(("tutorial manifest → 3/3 Ready", f"{total:.1f} s",
                         f"≤ {floor + ENSEMBLE_SLACK_S:.0f} s (floor {floor:.0f} s)"))
            for name in ("zk-0", "zk-1", "zk-2"):
                m = marks[name]
                rows.append((f"  {name}: created / Running / Ready at",
                             f"{m['added']:.1f} / {m['running']:.1f} / {m['ready']:.1f} s",
                             "Ready ≥ Running + 10 s"))
            for pod, (total_kib, jvm_kib) in rss_by_pod(cluster.state).items():
                rows.append((f"RSS of {pod} (all processes / JVM)",
                             f"{total_kib / 1024:.0f} / {jvm_kib / 1024:.0f} MiB", ""))
            rows.append(("RSS of localkube (API server, controllers, kubelets)",
                         f"{rss_kib(cluster.proc.pid) / 1024:.0f} MiB", ""))
        finally:
            events.stop()
            cluster.stop()
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"{'measure':<{width}}  {'value':<{vwidth}}  goal")
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:<{vwidth}}  {goal}")


if __name__ == "__main__":
    main()
