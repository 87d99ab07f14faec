"""Acceptance of "localkube part 2": the ZooKeeper tutorial on a full localkube (4 nodes,
kubelets running real ZooKeeper servers), with the real kubectl and the official client.

One localkube serves the module and the tests follow the tutorial's order (the last one
stops it); the manifest is the tutorial's, unchanged, so readiness needs its 10 s
initialDelaySeconds per pod and liveness its 3 x 10 s. Waits follow watch events or
command output under deadlines.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.localkube.cluster_fixtures import (
    MANIFEST,
    ZK_PODS,
    Kubectl,
    LineStream,
    PodWatch,
    api_client,
    is_ready,
    phase,
    pod_watch,
    restarts,
    start_localkube,
)
from tests.localkube.conftest import REPO, ControlPlane, KubectlResult, stop_control_plane

pytestmark = pytest.mark.slow

ZK_JAR = Path("/usr/share/java/zookeeper.jar")
FQDN = "{}.zk-hs.default.svc.cluster.local"
START = 120.0  # 3 x initialDelaySeconds 10 plus start-up, with room for a loaded host
LIVENESS = 60.0  # initialDelay, 3 failed probes 10 s apart, restart, readiness again


def require_host() -> None:
    if os.geteuid() != 0:
        pytest.skip("localkube's kubelets run containers in Linux namespaces: needs root")
    if not ZK_JAR.exists():
        pytest.skip("ZooKeeper is not installed (apt-get install zookeeper)")
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")


@dataclass
class Env:
    cp: ControlPlane
    api: Any
    kubectl: Kubectl
    watch: PodWatch
    hello: bool = False  # /hello was written (by the sanity test)

    def exec(self, pod: str, *command: str, check: bool = True,
             timeout: float = 60.0) -> KubectlResult:
        return self.kubectl("exec", pod, "--", *command, check=check, timeout=timeout)

    def pods(self) -> dict[str, dict]:
        return self.watch.snapshot()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    require_host()
    cp = start_localkube(tmp_path_factory.mktemp("accept-kubelets"), kubelets=True)
    api = api_client(cp)
    kubectl = Kubectl(cp)
    watch = PodWatch(api).start()
    try:
        yield Env(cp, api, kubectl, watch)
    finally:
        watch.stop()
        kubectl.close()
        api.close()
        stop_control_plane(cp, timeout=60)


# -- helpers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of `kubectl get pods -w`: NAME READY STATUS RESTARTS (the count only)."""

    name: str
    ready: str
    status: str
    restarts: int

    @classmethod
    def parse(cls, line: str) -> Row | None:
        cols = line.split()
        if len(cols) < 5 or cols[0] == "NAME":
            return None
        return cls(cols[0], cols[1], cols[2], int(cols[3]))

    def __str__(self) -> str:
        return f"{self.ready} {self.status} {self.restarts}"


def rows_of(lines: list[str], name: str) -> list[str]:
    """The distinct successive rows one pod showed."""
    out: list[str] = []
    for line in lines:
        row = Row.parse(line)
        if row and row.name == name and (not out or out[-1] != str(row)):
            out.append(str(row))
    return out


def watch_pods(env: Env) -> LineStream:
    return LineStream(env.kubectl.popen("get", "pods", "-w", "-l", "app=zk"))


def expect_row(stream: LineStream, name: str, row: str, start: int, timeout: float) -> int:
    return stream.expect(lambda line: (r := Row.parse(line)) is not None and r.name == name
                         and str(r) == row, timeout, f"{name} {row}", start)


def ensemble_ready(env: Env) -> bool:
    pods = [env.watch.pods.get(n) for n in ZK_PODS]
    return all(p and is_ready(p) and not p["metadata"].get("deletionTimestamp") for p in pods)


def until(run: Callable[[], KubectlResult], ok: Callable[[KubectlResult], bool],
          timeout: float, what: str) -> KubectlResult:
    """Re-run a command until its output is what we want (each run takes ~1 s: a JVM)."""
    deadline = time.monotonic() + timeout
    last: KubectlResult | None = None
    while time.monotonic() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            last = run()
            if ok(last):
                return last
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last}")


def zk_get_hello(env: Env, pod: str, timeout: float = 30.0) -> KubectlResult:
    return until(lambda: env.exec(pod, "zkCli.sh", "get", "/hello", check=False, timeout=20),
                 lambda r: r.returncode == 0 and "world" in r.stdout.splitlines(), timeout,
                 f"/hello on {pod}")


def ensure_ensemble(env: Env) -> None:
    """The tutorial's three servers, Ready (so a test also runs on its own)."""
    if not ensemble_ready(env):
        env.kubectl("apply", "-f", str(MANIFEST))
        env.watch.wait(lambda: ensemble_ready(env), START, "three ready servers")


def write_hello(env: Env) -> KubectlResult:
    """`zkCli.sh create /hello world` on zk-0, once the ensemble accepts writes."""
    ensure_ensemble(env)
    created = until(lambda: env.exec("zk-0", "zkCli.sh", "create", "/hello", "world",
                                     check=False, timeout=20),
                    lambda r: r.returncode == 0, 30, "create /hello")
    env.hello = True
    return created


def ensure_hello(env: Env) -> None:
    ensure_ensemble(env)
    if not env.hello:
        write_hello(env)


def scoped_processes(state_dir: Path, pattern: str = "") -> dict[int, str]:
    """Live processes of this localkube's containers (other localkubes and other ZooKeepers
    on the host are not ours): their mounts, or for the runtime's helpers (`setpriv`,
    `unshare`) their command lines, name a path under its state dir."""
    found: dict[int, str] = {}
    needle = f"{state_dir}/"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if pattern in cmdline and (needle in cmdline
                                       or needle in (entry / "mountinfo").read_text()):
                found[int(entry.name)] = cmdline
        except OSError:  # gone meanwhile, or a zombie
            continue
    return found


def wait_exited(pids: list[int], timeout: float) -> list[int]:
    """Wait (on pidfds, not by polling) until every pid exited; returns those still alive."""
    fds: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            fds[os.pidfd_open(pid)] = pid
    deadline = time.monotonic() + timeout
    try:
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        alive = set(fds)
        while alive and (remaining := deadline - time.monotonic()) > 0:
            for fd, _ in poller.poll(remaining * 1000):
                alive.discard(fd)
                poller.unregister(fd)
        return sorted(fds[fd] for fd in alive)
    finally:
        for fd in fds:
            os.close(fd)


def container_pid(env: Env, pod: str) -> int:
    """Host pid of the pod's ZooKeeper JVM (its hosts files are bind-mounted from the pod)."""
    for pid in scoped_processes(env.cp.state_dir, "QuorumPeerMain"):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/root/etc/hostname").read_text().strip() == pod:
                return pid
    raise AssertionError(f"no ZooKeeper process for {pod}")


# -- the tutorial ----------------------------------------------------------------------------------


def test_ensemble_becomes_ready_in_ordinal_order(env: Env) -> None:
    stream = watch_pods(env)
    start = env.watch.mark()
    try:
        assert env.kubectl("apply", "-f", str(MANIFEST)).stdout.splitlines() == [
            "service/zk-hs created", "service/zk-cs created",
            "poddisruptionbudget.policy/zk-pdb created", "statefulset.apps/zk created"]
        env.watch.wait(lambda: ensemble_ready(env), START, "three ready servers")
        expect_row(stream, "zk-2", "1/1 Running 0", 0, 10)
    finally:
        lines = stream.close()
    for name in ZK_PODS:  # the tutorial's `kubectl get pods -w -l app=zk`
        assert rows_of(lines, name) == ["0/1 Pending 0", "0/1 ContainerCreating 0",
                                        "0/1 Running 0", "1/1 Running 0"], lines
    first_row = {n: next(i for i, ln in enumerate(lines) if ln.startswith(n + " "))
                 for n in ZK_PODS}
    ready_row = {n: next(i for i, ln in enumerate(lines) if (r := Row.parse(ln))
                         and r.name == n and r.ready == "1/1") for n in ZK_PODS}
    assert ready_row["zk-0"] < first_row["zk-1"] and ready_row["zk-1"] < first_row["zk-2"]

    events = env.watch.since(start)  # the same order, from the client's watch
    assert [e.name for e in events if e.type == "ADDED"] == list(ZK_PODS)
    for name in ZK_PODS:
        running = next(e for e in events if e.name == name and e.phase == "Running")
        ready = next(e for e in events if e.name == name and e.ready)
        started = running.obj["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
        became = next(c["lastTransitionTime"] for c in ready.obj["status"]["conditions"]
                      if c["type"] == "Ready")
        delay = (datetime.fromisoformat(became) - datetime.fromisoformat(started)).total_seconds()
        assert delay >= 9, f"{name} Ready {delay}s after start (initialDelaySeconds is 10)"
    nodes = {p["spec"]["nodeName"] for p in env.pods().values()}
    assert len(nodes) == 3, "anti-affinity: one server per node"


def test_identity_and_configuration(env: Env) -> None:
    ensure_ensemble(env)
    for i, name in enumerate(ZK_PODS):
        assert env.exec(name, "hostname").stdout == f"{name}\n"
        assert env.exec(name, "hostname", "-f").stdout == FQDN.format(name) + "\n"
        assert env.exec(name, "cat", "/var/lib/zookeeper/data/myid").stdout == f"{i + 1}\n"
    conf = env.exec("zk-0", "cat", "/opt/zookeeper/conf/zoo.cfg").stdout.splitlines()
    assert [line for line in conf if line.startswith("server.")] == [
        f"server.{i + 1}={FQDN.format(n)}:2888:3888" for i, n in enumerate(ZK_PODS)]
    for line in ("clientPort=2181", "dataDir=/var/lib/zookeeper/data", "tickTime=2000",
                 "initLimit=10", "maxClientCnxns=60"):
        assert line in conf


def test_write_on_one_server_read_on_another(env: Env) -> None:
    created = write_hello(env)
    assert "Created /hello" in created.stdout + created.stderr
    got = zk_get_hello(env, "zk-1")
    assert "WatchedEvent state:SyncConnected type:None path:null" in got.stdout


def test_logs_and_unprivileged_server(env: Env) -> None:
    ensure_ensemble(env)
    logs = env.kubectl("logs", "zk-0", "--tail", "20").stdout.splitlines()
    assert len(logs) == 20
    assert any(" [myid:1] - INFO  [" in line for line in logs), logs
    ps = env.exec("zk-0", "ps", "-elf").stdout.splitlines()
    assert ps[0].split()[:4] == ["F", "S", "UID", "PID"]
    java = [line.split() for line in ps if "QuorumPeerMain" in line]
    assert len(java) == 1 and java[0][2] == "zookeep+", ps
    assert env.exec("zk-0", "id", "-u").stdout == "1000\n"
    listing = env.exec("zk-0", "ls", "-ld", "/var/lib/zookeeper/data").stdout.split()
    assert listing[0].startswith("drwxr-s") and listing[2:4] == ["zookeeper", "zookeeper"]
    assert env.exec("zk-0", "stat", "-c", "%g", "/var/lib/zookeeper/data").stdout == "1000\n"


def test_killed_server_is_restarted(env: Env) -> None:
    ensure_hello(env)
    n = restarts(env.pods()["zk-0"])  # 0 unless a probe restarted it before
    stream = watch_pods(env)
    try:
        at = expect_row(stream, "zk-0", f"1/1 Running {n}", 0, 10)
        assert env.exec("zk-0", "pkill", "java").returncode == 0
        at = expect_row(stream, "zk-0", f"0/1 Error {n}", at + 1, 20)
        at = expect_row(stream, "zk-0", f"0/1 Running {n + 1}", at + 1, 20 + 10 * n)
        expect_row(stream, "zk-0", f"1/1 Running {n + 1}", at + 1, LIVENESS)
    finally:
        lines = stream.close()
    rows = rows_of(lines, "zk-0")
    if n > 0:  # a restart less than 10 min ago: the kubelet backs off before this one
        rows = [r for r in rows if r != f"0/1 CrashLoopBackOff {n}"]
    assert rows == [f"1/1 Running {n}", f"0/1 Error {n}",
                    f"0/1 Running {n + 1}", f"1/1 Running {n + 1}"]
    status = env.pods()["zk-0"]["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"]["exitCode"] == 143
    assert status["lastState"]["terminated"]["reason"] == "Error"
    zk_get_hello(env, "zk-0")


def test_liveness_probe_restarts_a_server_without_its_probe(env: Env) -> None:
    ensure_hello(env)
    before = {n: restarts(env.pods()[n]) for n in ("zk-0", "zk-1")}
    stream = watch_pods(env)
    try:
        # The tutorial's `rm /usr/bin/zookeeper-ready` fails as it would on a real cluster:
        # /usr/bin is root's and the container runs as uid 1000.
        res = env.exec("zk-1", "rm", "/usr/bin/zookeeper-ready", check=False)
        assert res.returncode == 1 and "Permission denied" in res.stderr, res
        # As the user can: the script itself, which /usr/bin/zookeeper-ready links to.
        assert env.exec("zk-0", "rm", "/opt/zookeeper/bin/zookeeper-ready").returncode == 0
        # As root on the node (what `crictl exec` could do): the /usr/bin link, on zk-1.
        os.unlink(f"/proc/{container_pid(env, 'zk-1')}/root/usr/bin/zookeeper-ready")
        for name, count in before.items():
            at = expect_row(stream, name, f"0/1 Running {count}", 0, LIVENESS)
            at = expect_row(stream, name, f"0/1 Running {count + 1}", at + 1, LIVENESS)
            expect_row(stream, name, f"1/1 Running {count + 1}", at + 1, LIVENESS)
    finally:
        lines = stream.close()
    for name, count in before.items():
        assert rows_of(lines, name) == [f"1/1 Running {count}", f"0/1 Running {count}",
                                        f"0/1 Running {count + 1}",
                                        f"1/1 Running {count + 1}"], lines
        events = env.kubectl("get", "events", "--field-selector",
                             f"involvedObject.name={name}").stdout
        assert "Container kubernetes-zookeeper failed liveness probe, will be restarted" in events
        assert "Liveness probe failed:" in events and "Readiness probe failed:" in events
        reasons = env.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}",
                              "-o", "jsonpath={range .items[*]}{.reason}{'\\n'}{end}").stdout
        order = reasons.split()  # listed by name, which orders them as they happened
        assert order[0] == "Scheduled" and order.index("Unhealthy") < order.index("Killing")
    # a restarted container starts from the image again: the probe script is back
    assert env.exec("zk-1", "ls", "/usr/bin/zookeeper-ready").returncode == 0
    assert env.exec("zk-0", "ls", "/opt/zookeeper/bin/zookeeper-ready").returncode == 0
    zk_get_hello(env, "zk-1")


def test_drain_moves_a_server_with_its_data(env: Env) -> None:
    ensure_hello(env)
    pods = env.pods()
    nodes = {n: p["spec"]["nodeName"] for n, p in pods.items()}
    free = ({"node-1", "node-2", "node-3", "node-4"} - set(nodes.values())).pop()
    try:
        res = env.kubectl("drain", nodes["zk-0"], "--ignore-daemonsets", "--force",
                          "--delete-emptydir-data", timeout=90)
        assert res.stdout.splitlines() == [
            f"node/{nodes['zk-0']} cordoned", "evicting pod default/zk-0", "pod/zk-0 evicted",
            f"node/{nodes['zk-0']} drained"]
        old = pods["zk-0"]["metadata"]["uid"]
        moved = env.watch.wait(lambda: (p := env.watch.pods.get("zk-0")) and is_ready(p)
                               and p["metadata"]["uid"] != old and p, START, "zk-0 moved")
        assert moved["spec"]["nodeName"] == free
        assert env.exec("zk-0", "cat", "/var/lib/zookeeper/data/myid").stdout == "1\n"
        zk_get_hello(env, "zk-0")
        mode = until(lambda: env.exec("zk-0", "sh", "-c", "echo srvr | nc -q 1 127.0.0.1 2181",
                                      check=False),
                     lambda r: "Mode: follower" in r.stdout or "Mode: leader" in r.stdout,
                     30, "zk-0 in the ensemble")
        assert "Mode: " in mode.stdout
    finally:
        env.kubectl("uncordon", nodes["zk-0"])


def test_deleted_and_reapplied_set_keeps_the_data(env: Env) -> None:
    ensure_hello(env)
    start = env.watch.mark()
    out = env.kubectl("delete", "statefulset", "zk", timeout=90).stdout
    assert out.strip() == 'statefulset.apps "zk" deleted'
    env.watch.wait(lambda: not env.watch.pods, 60, "every server gone")
    gone = env.watch.since(start)
    assert {e.name for e in gone if e.type == "DELETED"} == set(ZK_PODS)
    assert not scoped_processes(env.cp.state_dir, "QuorumPeerMain")

    applied = env.kubectl("apply", "-f", str(MANIFEST)).stdout.splitlines()
    assert applied[3] == "statefulset.apps/zk created"
    env.watch.wait(lambda: ensemble_ready(env), START, "three ready servers again")
    assert [e.name for e in env.watch.since(start) if e.type == "ADDED"] == list(ZK_PODS)
    got = zk_get_hello(env, "zk-2")
    assert "world" in got.stdout.splitlines()


def test_down_leaves_no_server_and_no_mount(env: Env) -> None:
    ensure_ensemble(env)
    java = scoped_processes(env.cp.state_dir, "QuorumPeerMain")
    everything = scoped_processes(env.cp.state_dir)
    assert len(java) == 3 and len(everything) > len(java)
    assert any("unshare" in cmd for cmd in everything.values()), everything
    env.watch.stop()
    res = subprocess.run([sys.executable, "-m", "localkube", "down", "--state-dir",
                          str(env.cp.state_dir)], cwd=REPO, env=dict(os.environ,
                          PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == f"localkube: stopped (pid {env.cp.process.pid})"
    assert env.cp.process.wait(10) == 0
    assert not [p for p in everything if Path(f"/proc/{p}").exists()]
    assert not scoped_processes(env.cp.state_dir)
    assert str(env.cp.state_dir) not in Path("/proc/self/mountinfo").read_text()


def test_sigkill_of_localkube_takes_its_servers_along(tmp_path: Path) -> None:
    require_host()
    cp = start_localkube(tmp_path, kubelets=True, nodes=1)
    kubectl = Kubectl(cp)
    api = api_client(cp)
    try:
        with pod_watch(api) as watch:
            kubectl("apply", "-f", str(MANIFEST))
            watch.wait(lambda: phase(watch.pods.get("zk-0") or {}) == "Running", 30,
                       "zk-0 running")
        logs = LineStream(kubectl.popen("logs", "-f", "zk-0"))
        try:  # ZooKeeper's first log line: the JVM runs
            logs.expect(lambda line: "[myid:" in line, 30, "a ZooKeeper log line")
        finally:
            logs.close()
        java = scoped_processes(cp.state_dir, "QuorumPeerMain")
        everything = scoped_processes(cp.state_dir)
        assert len(java) == 1 and len(everything) > 1
        cp.process.send_signal(signal.SIGKILL)
        assert cp.process.wait(10) == -signal.SIGKILL
        assert wait_exited(list(everything), 10) == []
        assert not scoped_processes(cp.state_dir)
        assert str(cp.state_dir) not in Path("/proc/self/mountinfo").read_text()
    finally:
        kubectl.close()
        api.close()
        stop_control_plane(cp)
