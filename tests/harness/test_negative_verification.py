"""The per-step verdict fails a drill, and names why, when something happens behind its back.

Each test runs a drill in a child pytest (as an SRE would) on this module's localkube while
the test itself breaks something the drill did not ask for:

- acknowledged writes disappear (the test deletes one of the workload's znodes through its
  own ZooKeeper session): the drill fails naming the missing znode;
- a step kills a server it did not declare: the drill fails naming that pod.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from harness.conditions import pods_ready
from harness.localkube_process import LocalkubeProcess
from harness.waits import wait_for
from tests.harness.drillrun import cluster_in, journal_entries, localkube, run_child_drill

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]
RUN_TIMEOUT = 900.0
WORK = "/zkdrill/work"

UNDECLARED = '''
import pytest

from harness.drill import Drill, pod_restarted

pytestmark = [pytest.mark.process, pytest.mark.destructive]


def test_kills_a_server_it_does_not_declare(drill: Drill) -> None:
    before = drill.pods.current()["zk-1"].restarts
    with drill.step("pkill java in zk-1, declaring only zk-0", disturbs=["zk-0"]):
        drill.exec("zk-1", ["pkill", "java"])
        drill.wait(pod_restarted(drill.pods, "zk-1", before))
'''


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalkubeProcess]:
    with localkube() as process:
        yield process


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, lk: LocalkubeProcess,
         namespace: str, drills: Path, marker: str) -> pytest.RunResult:
    return run_child_drill(pytester, monkeypatch, lk, namespace, marker, drills=drills,
                           timeout=RUN_TIMEOUT)


def _delete_an_acknowledged_write(lk: LocalkubeProcess, namespace: str,
                                  deleted: list[str]) -> None:
    """Once the drill's workload has written three znodes through zk-1, delete the first."""
    cluster = cluster_in(lk.kubeconfig, namespace)
    with cluster.watch_pods("app=zk") as pods:  # the ensemble serves once all three run
        wait_for(pods_ready(pods, 3, ["zk-0", "zk-1", "zk-2"]), timeout=RUN_TIMEOUT)
    relay = cluster.relay("zk-0", 2181)
    client = KazooClient(hosts=f"127.0.0.1:{relay.port}", timeout=10.0)
    try:
        client.start(timeout=RUN_TIMEOUT)  # until the quorum forms (it follows Ready)
        client.ensure_path(WORK)
        roots = _children_once(client, WORK, lambda kids: bool(kids))
        directory = f"{WORK}/{roots[0]}/zk-1"
        client.ensure_path(directory)
        children = _children_once(client, directory, lambda kids: len(kids) >= 3)
        victim = f"{directory}/{sorted(children)[0]}"
        client.delete(victim)
        deleted.append(victim)
    finally:
        client.stop()
        client.close()
        relay.close()
        cluster.close()


def _children_once(client: KazooClient, path: str,
                   wanted: Callable[[list[str]], bool]) -> list[str]:
    """Block on a children watch (no polling) until ``wanted(children)``."""
    done, found = threading.Event(), []

    def seen(children: list[str]) -> bool:
        if wanted(children) and not done.is_set():
            found.extend(children)
            done.set()
            return False  # stop watching
        return True

    client.ChildrenWatch(path)(seen)
    assert done.wait(RUN_TIMEOUT), f"{path} never had the children the test waits for"
    return found


def test_an_acknowledged_write_deleted_behind_the_drills_back_is_named(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    deleted: list[str] = []
    saboteur = threading.Thread(target=_delete_an_acknowledged_write,
                                args=(shared, "neg-lost", deleted), daemon=True)
    saboteur.start()
    scenarios = Path(__file__).resolve().parents[2] / "scenarios"
    result = _run(pytester, monkeypatch, shared, "neg-lost", scenarios, "process")
    saboteur.join(60)
    assert deleted, "the test never deleted a write (the workload wrote nothing through zk-1?)"
    # the step that ended after the deletion fails; the end-of-drill check (at teardown)
    # names the same write as lost
    assert result.parseoutcomes().get("failed") == 1, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines([f"*1 acknowledged write(s)*{deleted[0]}*"])


def test_a_step_that_disturbs_an_undeclared_pod_fails_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    drill = pytester.makepyfile(test_undeclared=UNDECLARED)
    result = _run(pytester, monkeypatch, shared, "neg-undeclared", drill, "process")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the step disturbed pods it did not declare: zk-1: "
                                 "restarts 0 -> 1*"])


def test_a_node_stop_command_that_fails_is_one_line_and_exit_4(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    result = run_child_drill(pytester, monkeypatch, shared, "neg-stop", "node_failure",
                             extra=["--node-stop-command=false {node}",
                                    "--node-start-command=true {node}"], timeout=RUN_TIMEOUT)
    assert result.ret == 4, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*zkdrill: could not stop node/node-*: `false node-*` failed "
                                 "with exit status 1*check --node-stop-command*"])
    cluster = cluster_in(shared.kubeconfig, "neg-stop")
    try:
        assert not [e for e in journal_entries(cluster)], "the failed stop left an entry"
    finally:
        cluster.close()
