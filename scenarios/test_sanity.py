"""Sanity testing the ensemble: write through one server, read through the others.

Tutorial section: "Sanity testing the ensemble". What this drill checks:

- /hello = world written through zk-0 is served by zk-1 and by zk-2, each asked on its own
  session after ``sync`` (so the answer is that server's, not a failover's);
- the same with the tutorial's own client: ``zkCli.sh create`` in zk-0 prints "Created",
  then ``zkCli.sh get`` in zk-1 and in zk-2 prints the value.
"""

from __future__ import annotations

import pytest

from harness.drill import Condition, Drill, Progress

pytestmark = pytest.mark.sanity


def test_write_through_one_read_through_the_others(drill: Drill) -> None:
    first, *others = drill.names
    unique = f"/sanity-{drill.run_id}", f"written-by-{drill.run_id}"  # no earlier run's value
    with drill.step(f"write /hello = world through {first}"):
        drill.zk.write(first, "/hello", "world")
        drill.zk.write(first, *unique)
    for pod in others:
        with drill.step(f"read /hello through {pod} (its own session, after sync)"):
            drill.zk.expect(pod, "/hello", "world", why=f" after writing it through {first}")
            drill.zk.expect(pod, *unique, why=f" after writing it through {first}")


def test_zkcli_in_the_pods(drill: Drill) -> None:
    first, *others = drill.names
    path, value = f"/hello-{drill.run_id}", "world"
    with drill.step(f"kubectl exec {first} -- zkCli.sh create {path} {value}"):
        created = drill.zk.zkcli(first, "create", path, value)
        assert created.ok and f"Created {path}" in created.output, created.describe()
    for pod in others:
        with drill.step(f"kubectl exec {pod} -- zkCli.sh get {path}"):
            drill.wait(_zkcli_shows(drill, pod, path, value), timeout=drill.timeouts.zk)


def _zkcli_shows(drill: Drill, pod: str, path: str, value: str) -> Condition:
    """zkCli.sh's ``get`` prints the value on a line of its own once ``pod`` has the write."""

    def check() -> Progress:
        result = drill.zk.zkcli(pod, "get", path)
        lines = [line.strip() for line in result.output.splitlines()]
        return Progress(result.ok and value in lines, result.describe())

    return Condition(check, f"zkCli.sh get {path} in {pod} to print {value}")
