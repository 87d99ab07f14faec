"""A drill killed in the middle leaves nothing behind once it is repaired.

- SIGKILL during ``-m drain`` and ``-m rotation`` (once the journal shows a cordon and the
  node is cordoned, carrying the run's ``zkdrill.io/cordoned-by``): while the killed run's
  Lease is held a ``--zkdrill-repair`` leaves it alone; once the Lease is gone, no node
  stays cordoned, the journal is empty, the template is the manifest's;
- SIGKILL during ``-m update`` (once the patched template is live), then the *next* run
  (``-m spread``): it undoes the leftover template patch before anything else and says so;
- the window between the journal write and the API call, for each fault kind: entries
  written by hand as such a run leaves them (intent only, nothing made), after which someone
  else cordons the node, changes the template, and the file is still there; plus a live
  run's entry (its Lease held). ``--zkdrill-repair`` refuses without the opt-in (exit 4),
  and with it touches none of these. (Killing a child inside that window is not reliable:
  it lasts one API call.);
- pytest-timeout (signal method) and Ctrl-C interrupt a drill with an exception, so its
  fault context managers and fixture finalizers still undo (no cluster needed for these).

The drills run in child processes against this module's own localkube; the test waits on
the journal ConfigMap and the objects through the API (watches), never on sleeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.journal import CORDONED_BY, ConfigMapStore, Journal, Owner
from harness.kube.apply import Manifest
from harness.kube.client import Cluster
from harness.kube.objects import NODE, POD, STATEFULSET
from harness.localkube_process import LocalkubeProcess
from harness.settings import DEFAULT_MANIFEST
from harness.undo import manifest_drift
from tests.harness.drillrun import (
    REPO,
    child_env,
    cluster_in,
    cordoned_nodes,
    drill_args,
    end_run_leases,
    free_namespaces,
    hold_lease,
    journal_entries,
    localkube,
    wait_for_journal,
    watch_until,
)

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]
DEPLOY_AND_REACH = 600.0  # deploy the ensemble and get to the fault
PYTEST = [sys.executable, "-m", "pytest"]


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalkubeProcess]:
    with localkube() as process:
        yield process


@pytest.fixture(autouse=True)
def _free_the_cluster(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's killed run leaves an ensemble behind: delete it afterwards, so the next
    test's pods find the CPU they request."""
    yield
    if "shared" in request.fixturenames:
        free_namespaces(request.getfixturevalue("shared").kubeconfig, "kill-")


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([*PYTEST, *args], cwd=REPO, env=child_env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def kill(child: subprocess.Popen[bytes]) -> int:
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGKILL)
    return child.wait(60)


def run(args: list[str], timeout: float = 900.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYTEST, *args], cwd=REPO, env=child_env(), capture_output=True,
                          text=True, timeout=timeout)


def node_mark(cluster: Cluster, node: str) -> str | None:
    found = cluster.node(node) or {}
    return ((found.get("metadata") or {}).get("annotations") or {}).get(CORDONED_BY)


def template_document() -> dict:
    return Manifest.load(DEFAULT_MANIFEST).statefulset("zk")


@pytest.mark.parametrize("drill", ["drain", "rotation"])
def test_sigkill_during_drain_then_zkdrill_repair(shared: LocalkubeProcess, tmp_path: Path,
                                                  drill: str) -> None:
    cluster: Cluster = cluster_in(shared.kubeconfig, f"kill-{drill}")
    assert cordoned_nodes(cluster) == []
    args = drill_args(shared.kubeconfig, f"kill-{drill}", tmp_path / "reports")
    child = start([*args, "-m", drill], tmp_path / f"{drill}.log")
    try:
        entries = wait_for_journal(cluster, lambda es: any(e.kind == "cordon" for e in es),
                                   DEPLOY_AND_REACH)
        node = next(e.undo["node"] for e in entries if e.kind == "cordon")
        # journaled before it is made: watch the node until the cordon shows
        watch_until(cluster, "/api/v1/nodes", node,
                    lambda n: bool((n.get("spec") or {}).get("unschedulable")), 60.0)
    finally:
        code = kill(child)
    assert code == -signal.SIGKILL
    assert node in cordoned_nodes(cluster), "the kill came before the cordon took effect"
    [killed] = {e.owner.run_id for e in journal_entries(cluster)}
    assert node_mark(cluster, node) == killed

    # while the killed run's Lease is held (here: renewed by the test, as if the run were alive
    # on another machine), a repair leaves its entries alone
    hold_lease(cluster, killed)
    early = run([*args, "--zkdrill-repair"])
    assert early.returncode == 0, early.stdout + early.stderr
    assert f"left alone (its run is still alive): cordon node/{node}" in early.stdout
    assert node in cordoned_nodes(cluster) and journal_entries(cluster)

    assert end_run_leases(cluster) == [killed]  # the operator: that run is dead
    repair = run([*args, "--zkdrill-repair"])
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert f"undone: cordon node/{node}" in repair.stdout
    assert cordoned_nodes(cluster) == []
    assert journal_entries(cluster) == []
    assert manifest_drift(cluster, template_document()) is None
    again = run([*args, "--zkdrill-repair"])
    assert again.returncode == 0 and "the journal is empty: nothing to repair" in again.stdout


def test_sigkill_during_update_then_the_next_run_replays(shared: LocalkubeProcess,
                                                         tmp_path: Path) -> None:
    cluster = cluster_in(shared.kubeconfig, "kill-update")
    args = drill_args(shared.kubeconfig, "kill-update", tmp_path / "reports")
    child = start([*args, "-m", "update"], tmp_path / "update.log")
    try:
        wait_for_journal(cluster, lambda es: any(e.kind == "template" for e in es),
                         DEPLOY_AND_REACH)
        watch_until(cluster, "/apis/apps/v1/namespaces/kill-update/statefulsets", "zk",
                    lambda sts: manifest_drift(cluster, template_document()) is not None, 60.0)
    finally:
        code = kill(child)
    assert code == -signal.SIGKILL
    assert manifest_drift(cluster, template_document()) is not None
    assert len(end_run_leases(cluster)) == 1  # the killed run's, deleted as an operator would

    following = run([*args, "-m", "spread"])
    assert following.returncode == 0, following.stdout + following.stderr
    assert "an earlier run was interrupted; undone: template statefulset/kill-update/zk" \
        in following.stdout
    assert journal_entries(cluster) == []
    assert manifest_drift(cluster, template_document()) is None


# -- intents never applied, someone else's changes, a live run's entries --------------------------

WEB = {"metadata": {"labels": {"app": "web"}},
       "spec": {"containers": [{"name": "web", "image": "nginx-slim"}]}}


def web_objects(cluster: Cluster) -> dict:
    """A StatefulSet with no replicas (a template to patch) and a bare running pod."""
    ns = cluster.namespace
    cluster.create(STATEFULSET, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
        "spec": {"replicas": 0, "serviceName": "web", "selector": {"matchLabels": WEB["metadata"]
                                                                   ["labels"]},
                 "template": WEB}})
    cluster.create(POD, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0"},
                         "spec": WEB["spec"]})
    return watch_until(cluster, f"/api/v1/namespaces/{ns}/pods", "web-0", lambda p: any(
        "running" in (c.get("state") or {})
        for c in (p.get("status") or {}).get("containerStatuses") or []), 120.0)


def test_repair_undoes_only_what_a_run_made_and_only_for_runs_that_are_over(
        shared: LocalkubeProcess, tmp_path: Path) -> None:
    """Entries written by hand as a run killed between the journal write and the API call
    leaves them (intent only, nothing made), next to someone else's changes and a live run's
    entry; ``--zkdrill-repair`` touches none of them (and needs the opt-in)."""
    cluster = cluster_in(shared.kubeconfig, "kill-intent")
    ns = cluster.namespace
    theirs, live_node = sorted(n["metadata"]["name"] for n in cluster.nodes())[:2]
    pod = web_objects(cluster)
    status = pod["status"]["containerStatuses"][0]
    before = cluster.statefulset("web")["spec"]["template"]  # type: ignore[index]

    dead = Journal(ConfigMapStore(cluster.transport, ns), Owner("deadrun", "other-host", 1))
    dead.record("cordon", f"node/{theirs}", {"node": theirs})
    patched = {**before, "spec": {**before["spec"], "containers": [
        {**before["spec"]["containers"][0], "image": "nginx-slim:ours"}]}}
    dead.record("template", f"statefulset/{ns}/web",
                {"statefulset": "web", "template": before, "patched": patched})
    dead.record("script", f"pod/{ns}/web-0:/usr/sbin/nginx", {
        "pod": "web-0", "uid": pod["metadata"]["uid"], "container": "web",
        "path": "/usr/sbin/nginx", "container_id": status["containerID"],
        "restart_command": ["pkill", "nginx"], "budget": 0.0, "labels": {}})
    # then someone else cordons that node and changes the template (kubectl does both)
    cluster.patch(NODE, theirs, {"spec": {"unschedulable": True}})
    cluster.patch(STATEFULSET, "web", [{"op": "replace", "value": "nginx-slim:theirs",
                                        "path": "/spec/template/spec/containers/0/image"}],
                  "json")
    # and a run that is alive (its Lease held) has cordoned another node
    hold_lease(cluster, "liverun")
    live = Journal(ConfigMapStore(cluster.transport, ns), Owner("liverun", "other-host", 2))
    live.mark_applied(live.record("cordon", f"node/{live_node}", {"node": live_node}), {})
    cluster.patch(NODE, live_node, {"metadata": {"annotations": {CORDONED_BY: "liverun"}},
                                    "spec": {"unschedulable": True}})

    args = drill_args(shared.kubeconfig, ns, tmp_path / "reports")
    unarmed = [a for a in args if a != "--allow-destructive"
               and not a.startswith("--confirm-context")]
    refused = run([*unarmed, "--zkdrill-repair"])
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "--zkdrill-repair refused" in refused.stdout + refused.stderr
    # a run without the opt-in says what is left and how to repair, touches nothing, goes on
    (tmp_path / "unarmed").mkdir()
    (tmp_path / "unarmed" / "test_reads.py").write_text("def test_reads(cluster):\n    pass\n")
    plain = subprocess.run(
        [*PYTEST, "-p", "harness.plugin", "-p", "no:cacheprovider", "test_reads.py",
         *unarmed[1:]], cwd=tmp_path / "unarmed", env=child_env(), capture_output=True,
        text=True, timeout=300)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    [line] = [x for x in plain.stdout.splitlines() if "an unfinished run left changes" in x]
    assert "run deadrun (pid 1 on other-host" in line and f"cordon node/{theirs}" in line
    assert "repair with: pytest --zkdrill-repair --cluster=kube" in line
    assert "--allow-destructive --confirm-context=localkube" in line
    assert len(journal_entries(cluster)) == 4

    repair = run([*args, "--zkdrill-repair"])
    assert repair.returncode == 0, repair.stdout + repair.stderr
    out = repair.stdout
    assert f"node/{theirs} is cordoned without {CORDONED_BY}" in out
    assert "statefulset web: the template is not the one run deadrun patched it to" in out
    assert "/usr/sbin/nginx is there in web-0: nothing restarted" in out
    assert f"left alone (its run is still alive): cordon node/{live_node}" in out
    try:
        assert cordoned_nodes(cluster) == sorted([theirs, live_node])
        image = cluster.statefulset("web")["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
        assert image["image"] == "nginx-slim:theirs"
        after = cluster.pod("web-0")["status"]["containerStatuses"][0]  # type: ignore[index]
        assert after["containerID"] == status["containerID"]
        assert after["restartCount"] == status["restartCount"]
        assert [e.owner.run_id for e in journal_entries(cluster)] == ["liverun"]
    finally:
        for node in (theirs, live_node):
            cluster.patch(NODE, node, {"metadata": {"annotations": {CORDONED_BY: None}},
                                       "spec": {"unschedulable": None}})


# -- interruptions that do not need a cluster --------------------------------------------------

FAULTY_DRILL = '''
import contextlib, pathlib, sys, time
import pytest
from harness.journal import shielded

HERE = pathlib.Path(__file__).parent


@contextlib.contextmanager
def fault():
    try:
        yield
    finally:
        with shielded():
            (HERE / "fault-undone").write_text("yes")


@pytest.fixture
def faults():
    yield
    (HERE / "finalizer-ran").write_text("yes")


def test_stuck_in_a_step(faults):
    with fault():
        print("ENTERED", flush=True)
        time.sleep(60)  # a step that hangs
'''


def test_a_timeout_still_undoes_the_fault(pytester: pytest.Pytester,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])
    pytester.makepyfile(test_faulty=FAULTY_DRILL)
    result = pytester.runpytest_subprocess("--timeout=2", "--timeout-method=signal",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Timeout*"])
    assert (pytester.path / "fault-undone").read_text() == "yes"
    assert (pytester.path / "finalizer-ran").read_text() == "yes"


def _ctrl_c_as_a_terminal_sends_it() -> None:
    """The child's SIGINT as a shell in the foreground leaves it, even when this test run
    was started in the background (``cmd &`` ignores SIGINT for what it starts)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_still_undoes_the_fault(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_faulty=FAULTY_DRILL)
    child = subprocess.Popen([*PYTEST, "-s", "-p", "no:cacheprovider", str(pytester.path)],
                             cwd=pytester.path, env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True,
                             preexec_fn=_ctrl_c_as_a_terminal_sends_it)
    assert child.stdout is not None
    for line in child.stdout:  # blocks until the drill is inside its fault
        if b"ENTERED" in line:
            break
    child.send_signal(signal.SIGINT)
    rest = child.communicate(timeout=60)[0].decode()
    assert child.returncode == int(pytest.ExitCode.INTERRUPTED), rest
    assert (pytester.path / "fault-undone").read_text() == "yes"
    assert (pytester.path / "finalizer-ran").read_text() == "yes"


def test_sigkill_during_node_failure_then_zkdrill_repair_starts_the_node(
        shared: LocalkubeProcess, tmp_path: Path) -> None:
    cluster = cluster_in(shared.kubeconfig, "kill-node")
    args = [*drill_args(shared.kubeconfig, "kill-node", tmp_path / "reports"),
            f"--node-stop-command={shared.node_command('stop')}",
            f"--node-start-command={shared.node_command('start')}"]
    child = start([*args, "-m", "node_failure"], tmp_path / "node.log")
    try:
        entries = wait_for_journal(
            cluster, lambda es: any(e.kind == "node" and e.applied for e in es),
            DEPLOY_AND_REACH)
    finally:
        code = kill(child)
    assert code == -signal.SIGKILL
    node = next(e.undo["node"] for e in entries if e.kind == "node")
    assert len(end_run_leases(cluster)) == 1
    repair = run([*args, "--zkdrill-repair"])
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert f"undone: node node/{node}" in repair.stdout
    ready = watch_until(cluster, "/api/v1/nodes", node, lambda n: any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (n.get("status") or {}).get("conditions") or []), 120.0)
    assert ready["metadata"]["name"] == node
    assert journal_entries(cluster) == []


def test_sigkill_during_upgrade_then_zkdrill_repair_restores_the_partition(
        shared: LocalkubeProcess, tmp_path: Path) -> None:
    cluster = cluster_in(shared.kubeconfig, "kill-upgrade")
    args = [*drill_args(shared.kubeconfig, "kill-upgrade", tmp_path / "reports"),
            "--upgrade-image=k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.11"]
    child = start([*args, "-m", "upgrade"], tmp_path / "upgrade.log")
    try:
        wait_for_journal(cluster, lambda es: any(e.kind == "rollout" and e.applied for e in es),
                         DEPLOY_AND_REACH)
    finally:
        code = kill(child)
    assert code == -signal.SIGKILL
    live = cluster.statefulset("zk") or {}
    assert "rollingUpdate" in live["spec"]["updateStrategy"], "the kill came before the patch"
    assert len(end_run_leases(cluster)) == 1
    repair = run([*args, "--zkdrill-repair"])
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert "undone: rollout statefulset/kill-upgrade/zk" in repair.stdout
    restored = cluster.statefulset("zk") or {}
    assert restored["spec"]["updateStrategy"] == {"type": "RollingUpdate"}
    assert manifest_drift(cluster, template_document()) is None
    assert journal_entries(cluster) == []


def _pulling_fails(pod: dict) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any(((c.get("state") or {}).get("waiting") or {}).get("reason")
               in ("ErrImagePull", "ImagePullBackOff") for c in statuses)


def test_sigkill_during_an_upgrade_to_a_bad_image_then_repair_forces_the_rollback(
        shared: LocalkubeProcess, tmp_path: Path) -> None:
    """Killed while its canary cannot pull its image: restoring the template is not enough
    (the controller waits for the stuck canary under OrderedReady), so the repair deletes
    the canary stuck on the abandoned revision and waits until every pod is Ready."""
    ns = "kill-badimage"
    cluster = cluster_in(shared.kubeconfig, ns)
    args = [*drill_args(shared.kubeconfig, ns, tmp_path / "reports"),
            "--upgrade-image=registry.example/zk:bad"]
    child = start([*args, "-m", "upgrade"], tmp_path / "upgrade.log")
    try:
        watch_until(cluster, f"/api/v1/namespaces/{ns}/pods", "zk-2", _pulling_fails,
                    DEPLOY_AND_REACH)
    finally:
        code = kill(child)
    assert code == -signal.SIGKILL
    assert len(end_run_leases(cluster)) == 1
    repair = run([*args, "--zkdrill-repair"])
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert f"undone: rollout statefulset/{ns}/zk" in repair.stdout, repair.stdout
    assert "forced rollback: deleted zk-2, stuck on an abandoned revision" in repair.stdout, \
        repair.stdout
    assert "every pod Ready at" in repair.stdout, repair.stdout
    assert manifest_drift(cluster, template_document()) is None
    assert journal_entries(cluster) == []


def test_sigkill_during_durability_then_zkdrill_repair_creates_the_set_again(
        shared: LocalkubeProcess, tmp_path: Path) -> None:
    cluster = cluster_in(shared.kubeconfig, "kill-durable")
    args = drill_args(shared.kubeconfig, "kill-durable", tmp_path / "reports")
    child = start([*args, "-m", "durability"], tmp_path / "durability.log")
    try:
        wait_for_journal(cluster, lambda es: any(e.kind == "statefulset" and e.applied
                                                 for e in es), DEPLOY_AND_REACH)
    finally:
        code = kill(child)
    assert code == -signal.SIGKILL
    assert cluster.statefulset("zk") is None, "the kill came after the re-apply"
    assert len(end_run_leases(cluster)) == 1
    repair = run([*args, "--zkdrill-repair"])
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert "undone: statefulset statefulset/kill-durable/zk" in repair.stdout
    assert "every pod Ready at" in repair.stdout  # the repair waited for the pods
    assert manifest_drift(cluster, template_document()) is None
    assert journal_entries(cluster) == []
