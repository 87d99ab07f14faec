"""The drain drill on a cluster with no spare node checks what such a cluster gives.

A three-node localkube and the tutorial manifest (three servers): no node is free, so the
drill must not skip (a skipped drill reads as green in a nightly job). It drains each
server's node in turn: the evicted server stays Pending until its node is uncordoned, the
budget refuses the next eviction meanwhile, and every server ends back on its own node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from harness.localkube_process import LocalkubeProcess
from tests.harness.drillrun import localkube, run_child_drill

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def three_nodes() -> Iterator[LocalkubeProcess]:
    with localkube(nodes=3) as process:
        yield process


def test_drain_on_three_nodes_drains_each_node_in_turn(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, three_nodes: LocalkubeProcess,
) -> None:
    result = run_child_drill(pytester, monkeypatch, three_nodes, "drain3", "drain",
                             timeout=900.0)
    result.assert_outcomes(passed=1)
    report = json.loads(next((pytester.path / "reports").glob("*.json")).read_text())
    steps = [s["name"] for s in report["drills"][0]["steps"]]
    pending = [s for s in steps if s.endswith("stays Pending: anti-affinity leaves no node for it")]
    back = [s for s in steps if s.endswith("again, Running and Ready")]
    refused = [s for s in steps if s.endswith("the eviction of zk-1 is refused")]
    assert [s.split()[0] for s in pending] == ["zk-0", "zk-1", "zk-2"], steps
    assert [s.split()[0] for s in back] == ["zk-0", "zk-1", "zk-2"], steps
    assert len(refused) == 1 and steps.index(refused[0]) < steps.index(back[0]), steps
