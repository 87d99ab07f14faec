"""The ``hang`` journal entry's undo: SIGCONT unless the container was replaced, verified."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import ClusterError
from harness.journal import Entry, Owner
from harness.kube.exec import ExecResult
from harness.undo import undo_hang


class FakeCluster:
    def __init__(self, container_id: str = "c1", state: str = "T", cont_works: bool = True):
        self.container_id, self.state, self.cont_works = container_id, state, cont_works
        self.commands: list[list[str]] = []

    def pod(self, name: str) -> dict[str, Any]:
        return {"metadata": {"uid": "u1"}, "status": {"containerStatuses": [
            {"name": "zookeeper", "containerID": self.container_id}]}}

    def exec(self, pod: str, command: list[str], *, container: str, timeout: float
             ) -> ExecResult:
        self.commands.append(command)
        if command[:2] == ["sh", "-c"] and "kill -CONT" in command[2] and self.cont_works:
            self.state = "S"
        if command[0] == "cat":
            return ExecResult(pod, tuple(command), 0, f"42 (java) {self.state} 1 2 3", "")
        return ExecResult(pod, tuple(command), 0, "", "")


def entry() -> Entry:
    return Entry("e1", "hang", "pod/default/zk-0:42", {
        "pod": "zk-0", "uid": "u1", "container": "zookeeper", "pid": 42, "process": "java",
        "container_id": "c1"}, Owner("run", "host", 1))


def test_continues_the_stopped_process_and_checks_it():
    cluster = FakeCluster()
    assert undo_hang(cluster, entry()) == "kill -CONT 42 in zk-0: it runs again"  # type: ignore[arg-type]
    assert ["sh", "-c", "kill -CONT 42"] in cluster.commands


def test_nothing_to_do_once_the_container_was_restarted():
    cluster = FakeCluster(container_id="c2")
    assert "restarted" in undo_hang(cluster, entry())  # type: ignore[arg-type]
    assert cluster.commands == []


def test_a_process_still_stopped_is_an_error():
    with pytest.raises(ClusterError, match="still stopped"):
        undo_hang(FakeCluster(cont_works=False), entry())  # type: ignore[arg-type]
