"""A drill killed in the middle leaves nothing behind once it is repaired.

- SIGKILL during ``-m drain`` (once the journal shows a cordon and the node is cordoned),
  then ``pytest --zkdrill-repair``: no node stays cordoned, the journal is empty, the
  template is the manifest's;
- SIGKILL during ``-m update`` (once the patched template is live), then the *next* run
  (``-m spread``): it undoes the leftover template patch before anything else and says so;
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

from harness.kube.apply import Manifest
from harness.kube.client import Cluster
from harness.localkube_process import LocalkubeProcess
from harness.settings import DEFAULT_MANIFEST
from harness.undo import manifest_drift
from tests.harness.drillrun import (
    REPO,
    child_env,
    cluster_in,
    cordoned_nodes,
    drill_args,
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


def template_document() -> dict:
    return Manifest.load(DEFAULT_MANIFEST).statefulset("zk")


def test_sigkill_during_drain_then_zkdrill_repair(shared: LocalkubeProcess,
                                                  tmp_path: Path) -> None:
    cluster: Cluster = cluster_in(shared.kubeconfig, "kill-drain")
    assert cordoned_nodes(cluster) == []
    args = drill_args(shared.kubeconfig, "kill-drain", tmp_path / "reports")
    child = start([*args, "-m", "drain"], tmp_path / "drain.log")
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
    assert journal_entries(cluster), "the killed run's journal should still be there"

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

    following = run([*args, "-m", "spread"])
    assert following.returncode == 0, following.stdout + following.stderr
    assert "an earlier run was interrupted; undone: template statefulset/kill-update/zk" \
        in following.stdout
    assert journal_entries(cluster) == []
    assert manifest_drift(cluster, template_document()) is None


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


def test_ctrl_c_still_undoes_the_fault(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_faulty=FAULTY_DRILL)
    child = subprocess.Popen([*PYTEST, "-s", "-p", "no:cacheprovider", str(pytester.path)],
                             cwd=pytester.path, env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    assert child.stdout is not None
    for line in child.stdout:  # blocks until the drill is inside its fault
        if b"ENTERED" in line:
            break
    child.send_signal(signal.SIGINT)
    rest = child.communicate(timeout=60)[0].decode()
    assert child.returncode == int(pytest.ExitCode.INTERRUPTED), rest
    assert (pytester.path / "fault-undone").read_text() == "yes"
    assert (pytester.path / "finalizer-ran").read_text() == "yes"
