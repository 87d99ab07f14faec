"""Sanity testing the ensemble: write through one server, read through the others.

Tutorial section: "Sanity testing the ensemble". What this drill checks:

- /hello = world written through zk-0 is served by zk-1 and by zk-2, each asked on its own
  session after ``sync`` (so the answer is that server's, not a failover's);
- the same with the tutorial's own client: ``zkCli.sh create`` in zk-0 prints "Created",
  then ``zkCli.sh get`` in zk-1 and in zk-2 prints the value.
"""

from __future__ import annotations

import pytest

from harness.ensemble import Ensemble
from harness.model.progress import Progress
from harness.servers import ZooKeeper
from harness.steps import DrillRecorder
from harness.waits import Condition

pytestmark = pytest.mark.sanity


def test_write_through_one_read_through_the_others(
    ensemble: Ensemble, zk: ZooKeeper, step: DrillRecorder
) -> None:
    first, *others = ensemble.names
    with step(f"write /hello = world through {first}"):
        zk.write(first, "/hello", "world")
    for pod in others:
        with step(f"read /hello through {pod} (its own session, after sync)"):
            zk.expect(pod, "/hello", "world", why=f" after writing it through {first}")


def test_zkcli_in_the_pods(ensemble: Ensemble, zk: ZooKeeper, step: DrillRecorder) -> None:
    first, *others = ensemble.names
    path, value = f"/hello-{ensemble.run_id}", "world"
    with step(f"kubectl exec {first} -- zkCli.sh create {path} {value}"):
        created = zk.zkcli(first, "create", path, value)
        assert created.ok and f"Created {path}" in created.output, created.describe()
    for pod in others:
        with step(f"kubectl exec {pod} -- zkCli.sh get {path}"):
            ensemble.wait(_zkcli_shows(zk, pod, path, value), timeout=ensemble.settings.timeouts.zk)


def _zkcli_shows(zk: ZooKeeper, pod: str, path: str, value: str) -> Condition:
    """zkCli.sh's ``get`` prints the value on a line of its own once ``pod`` has the write."""

    def check() -> Progress:
        result = zk.zkcli(pod, "get", path)
        lines = [line.strip() for line in result.output.splitlines()]
        return Progress(result.ok and value in lines, result.describe())

    return Condition(check, f"zkCli.sh get {path} in {pod} to print {value}")
