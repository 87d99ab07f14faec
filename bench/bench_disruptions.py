"""Benchmark the disruption drills: wall time against the floor their waits impose, and how
long ZooKeeper could not accept writes during each disruption.

For each drill (process, liveness, readiness, update, drain) it runs ``pytest -m <drill>``
in a child process against one localkube (or ``--kubeconfig``/``--context``, with the
destructive opt-in you pass yourself). Each drill runs its own workload (clients writing
through every server and with the full connection string, ``harness.zk.workload``), whose
figures its JSON report carries. It reports:

- wall: the child pytest, end to end; drill: the drill itself (from its JSON report);
- floor: what the manifest's probe settings and the drill's fixed windows make unavoidable
  (readiness initialDelaySeconds per restarted or rescheduled server, the PDB refusal
  window, kubectl's 5 s retry; for liveness and readiness, when the liveness probe actually
  restarted the container, as the drill measured it: the probe's phase against the removal
  puts that anywhere from periodSeconds x (failureThreshold - 1) to periodSeconds x
  failureThreshold after it, and the drill cannot choose);
- the workload's longest time with no write acknowledged, and its writes.

Run from the repository root, as root: ``python bench/bench_disruptions.py [--drills a,b]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.kube.client import connect  # noqa: E402
from harness.localkube_process import LocalkubeProcess  # noqa: E402
from harness.model.disruption import ProbeTimes, container_spec  # noqa: E402
from harness.settings import Timeouts  # noqa: E402

DRILLS = ("process", "liveness", "readiness", "update", "drain")
RETRY = 5.0  # kubectl drain's pace between refused evictions


def floors(pod: dict, container: str, replicas: int, window: float) -> dict[str, float]:
    """Seconds each drill cannot beat, from the live pod's probes."""
    spec = container_spec(pod["spec"], container)
    ready = ProbeTimes.of(spec.get("readinessProbe")) or ProbeTimes(0, 10, 1, 3, 1)
    live = ProbeTimes.of(spec.get("livenessProbe")) or ProbeTimes(0, 10, 1, 3, 1)
    back = ready.initial_delay  # a restarted or new container is not Ready sooner
    return {
        "process": back,
        "liveness": live.earliest_action + back,
        "readiness": live.earliest_action + back,
        "update": 2 * replicas * back,
        "drain": 3 * back + (2 * RETRY + 1) + window,
    }


def run_drill(drill: str, base_args: list[str], report_dir: Path
              ) -> tuple[float, float, str, dict]:
    """Run one drill; (wall seconds, drill seconds, outcome, workload figures)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", drill, *base_args,
                           f"--report-dir={report_dir / drill}"], cwd=REPO,
                          capture_output=True, text=True)
    wall = time.monotonic() - started
    reports = sorted((report_dir / drill).glob("*.json"))
    drills = json.loads(reports[-1].read_text())["drills"] if reports else []
    seconds = sum(d.get("duration", 0.0) for d in drills)
    outcome = ",".join(d.get("outcome", "?") for d in drills) or f"exit {done.returncode}"
    if done.returncode != 0:
        print(done.stdout[-2000:], file=sys.stderr)
    workload = next((d.get("workload") or {} for d in drills if d.get("workload")), {})
    for d in drills:
        workload.update(d.get("measures") or {})
    return wall, seconds, outcome, workload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drills", default=",".join(DRILLS))
    parser.add_argument("--kubeconfig", type=Path, help="a running cluster (else a localkube)")
    parser.add_argument("--namespace", default="bench")
    parser.add_argument("extra", nargs="*", help="more pytest arguments (e.g. the opt-in)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zkdrill-bench-"))
    lk = None if args.kubeconfig else LocalkubeProcess(nodes=4).start()
    kubeconfig = args.kubeconfig or lk.kubeconfig  # type: ignore[union-attr]
    try:
        admin = connect(kubeconfig, None, "default")
        admin.create_namespace(args.namespace)
        admin.close()
        cluster = connect(kubeconfig, None, args.namespace)
        base = ["--cluster=kube", f"--kubeconfig={kubeconfig}",
                f"--namespace={args.namespace}", "--keep", *args.extra]
        if lk is not None:
            base += ["--allow-destructive", f"--confirm-context={cluster.context}"]
        print("deploying the ensemble (pytest -m sanity --keep) ...", flush=True)
        run_drill("sanity", base, work)
        pod = cluster.pod("zk-0")
        assert pod is not None, "the ensemble did not deploy"
        floor = floors(pod, "kubernetes-zookeeper", 3, Timeouts().eviction_refused_window)
        rows = []
        for drill in args.drills.split(","):
            wall, seconds, outcome, work_figures = run_drill(drill, base, work)
            restart = work_figures.get("restart_after_s")
            imposed = floor[drill]
            if restart is not None:  # when the probe happened to act, not its earliest tick
                imposed = restart + floor["process"]
            rows.append((drill, outcome, wall, seconds, imposed, work_figures))
        head = ("drill", "outcome", "wall s", "drill s", "floor s", "x floor", "max gap s",
                "writes ok/failed/unknown", "lost")
        print("  ".join(f"{h:>10}" for h in head))
        for d, o, w, s, f, fig in rows:
            ratio = s / f if f else float("nan")
            writes = "/".join(str(fig.get(k, "?")) for k in
                              ("acknowledged", "failed", "indeterminate"))
            print(f"{d:>10}  {o:>10}  {w:>10.1f}  {s:>10.1f}  {f:>10.1f}  {ratio:>10.2f}  "
                  f"{fig.get('longest_gap', float('nan')):>10.2f}  {writes:>10}  "
                  f"{fig.get('lost', '?'):>4}")
        return 0
    finally:
        if lk is not None:
            lk.stop()


if __name__ == "__main__":
    raise SystemExit(main())
