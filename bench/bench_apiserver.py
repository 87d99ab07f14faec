"""Benchmark localkube's API server through the official Python client.

Measures: `localkube up` until /readyz answers ok; GET of one pod; LIST of 1,000 pods (also
without the client's model deserialisation, to separate server time from client time); and
watch delivery, from just before a write is sent until the watching client has the event.

Run: `python bench/bench_apiserver.py [--samples N]` from the repository root. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kubernetes import client, config, watch  # noqa: E402

from localkube import kubeconfig  # noqa: E402

GOALS = {"up → ready": 1000.0, "pod GET": 5.0, "LIST 1,000 pods": 50.0, "watch delivery": 20.0}


def start(base: Path) -> tuple[subprocess.Popen, float]:
    """Start `localkube up --no-kubelets`; returns the process and ms until /readyz is ok."""
    state = base / "state"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "localkube", "up", "--no-kubelets",
                             "--port", "0", "--state-dir", str(state)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx: ssl.SSLContext | None = None
    url = None
    while True:
        if proc.poll() is not None:
            raise RuntimeError("localkube up exited early")
        if url is None and (state / "localkube.pid").exists():
            url, _, ca = kubeconfig.read(state / "kubeconfig")
            ctx = ssl.create_default_context(cadata=ca.decode())
        if url is not None:
            try:
                with urllib.request.urlopen(url + "/readyz", context=ctx, timeout=1) as r:
                    if r.read() == b"ok":
                        return proc, (time.perf_counter() - t0) * 1000
            except (urllib.error.URLError, ConnectionError):
                pass
        time.sleep(0.002)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def pod(name: str) -> dict:
    return {"metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {"schedulerName": "none",
                     "containers": [{"name": "c", "image": "busybox",
                                     "resources": {"requests": {"cpu": "100m"}}}]}}


def watch_latency(api: client.ApiClient, namespace: str, n: int) -> list[float]:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "w"}, "data": {"i": "0"}})
    rv = core.read_namespaced_config_map("w", namespace).metadata.resource_version
    arrivals: queue.Queue[float] = queue.Queue()
    w = watch.Watch()

    def consume() -> None:
        try:
            for _ in w.stream(core.list_namespaced_config_map, namespace, resource_version=rv,
                              timeout_seconds=300):
                arrivals.put(time.perf_counter())
        except Exception:  # the stream is cut when the benchmark stops
            pass

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        core.patch_namespaced_config_map("w", namespace, {"data": {"i": str(i + 1)}})
        samples.append((arrivals.get(timeout=10) - t0) * 1000)
    w.stop()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="lk-bench-") as tmp:
        ups = []
        for i in range(3):
            proc, ms = start(Path(tmp) / f"up{i}")
            ups.append(ms)
            if i < 2:
                stop(proc)
        rows.append(("up → ready", statistics.median(ups), max(ups)))
        api = config.new_client_from_config(str(Path(tmp) / "up2" / "state" / "kubeconfig"))
        core = client.CoreV1Api(api)
        ns = "bench"
        core.create_namespace({"metadata": {"name": ns}})
        core.create_namespaced_pod(ns, pod("one"))
        timed(lambda: core.read_namespaced_pod("one", ns), 50)  # warm up
        get = timed(lambda: core.read_namespaced_pod("one", ns), args.samples)
        rows.append(("pod GET", pct(get, 50), pct(get, 99)))
        for i in range(999):
            core.create_namespaced_pod(ns, pod(f"p{i:04d}"))
        assert len(core.list_namespaced_pod(ns).items) == 1000
        n_list = max(20, args.samples // 10)
        lst = timed(lambda: core.list_namespaced_pod(ns), n_list)
        rows.append(("LIST 1,000 pods", pct(lst, 50), pct(lst, 99)))
        raw = timed(lambda: core.list_namespaced_pod(ns, _preload_content=False).data, n_list)
        rows.append(("LIST 1,000 pods, raw bytes", pct(raw, 50), pct(raw, 99)))
        lat = watch_latency(api, ns, max(100, args.samples // 2))
        rows.append(("watch delivery", pct(lat, 50), pct(lat, 99)))
        api.close()
        stop(proc)
    print(f"{'measure':<28}{'p50 ms':>10}{'p99 ms':>10}{'goal ms':>10}  ok")
    for name, p50, p99 in rows:
        goal = GOALS.get(name)
        verdict = "" if goal is None else ("yes" if p99 < goal else "NO")
        print(f"{name:<28}{p50:>10.2f}{p99:>10.2f}{goal if goal else '':>10}  {verdict}")
    print("(up → ready: median and max of 3 starts; watch delivery: from just before the "
          "write request to the event in the client, so it includes the write itself)")


if __name__ == "__main__":
    main()
