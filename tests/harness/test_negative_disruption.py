"""The disruption drills fail, and say why, when the ensemble lacks what the tutorial relies on.

Each test writes a weakened copy of the tutorial manifest, runs one drill against it in a
child pytest (``pytester``) on this module's localkube, and checks the failure message:

- no PodDisruptionBudget: ``drain`` fails saying the second eviction was allowed;
- no pod anti-affinity: ``spread`` fails saying nothing keeps the servers apart;
- no liveness probe: ``liveness`` fails saying the container was not restarted within the
  probe budget;
- no readiness probe: ``readiness`` fails saying nothing takes a server out of zk-cs;
- ``updateStrategy: OnDelete``: ``update`` fails naming the strategy;
- ``runAsUser: 0``: ``config`` fails naming the uid.

Whatever the drill did is undone by its own teardown: afterwards no node is cordoned.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.localkube_process import LocalkubeProcess
from tests.harness.drillrun import (
    localkube,
    manifest_variant,
    run_child_drill,
    statefulset_of,
)

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]
RUN_TIMEOUT = 900.0


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalkubeProcess]:
    with localkube() as process:
        yield process


def run_drill(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
              lk: LocalkubeProcess, namespace: str, manifest: Path, marker: str
              ) -> pytest.RunResult:
    return run_child_drill(pytester, monkeypatch, lk, namespace, marker, manifest=manifest,
                           timeout=RUN_TIMEOUT)


def without_pdb(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] != "PodDisruptionBudget"]


def without_anti_affinity(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    del statefulset_of(docs)["spec"]["template"]["spec"]["affinity"]
    return docs


def without_liveness(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for container in statefulset_of(docs)["spec"]["template"]["spec"]["containers"]:
        container.pop("livenessProbe", None)
    return docs


def test_drain_without_a_budget_fails_on_the_second_eviction(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "no-pdb.yaml", without_pdb)
    result = run_drill(pytester, monkeypatch, shared, "neg-nopdb", manifest, "drain")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the second eviction was allowed: zk-2 was evicted while "
                                 "zk-1 was down*no PodDisruptionBudget selects the pods*"])


def test_spread_without_anti_affinity_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "no-affinity.yaml", without_anti_affinity)
    result = run_drill(pytester, monkeypatch, shared, "neg-noaffinity", manifest, "spread")
    assert result.parseoutcomes().get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*nothing guarantees the servers run on different nodes: "
                                 "the pod template has no required podAntiAffinity*"])


def test_liveness_without_a_probe_fails_on_the_budget(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "no-liveness.yaml", without_liveness)
    result = run_drill(pytester, monkeypatch, shared, "neg-noliveness", manifest, "liveness")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*container was not restarted within the probe budget of *s "
                                 "after*was removed; the pod has no livenessProbe*"])


def without_readiness(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for container in statefulset_of(docs)["spec"]["template"]["spec"]["containers"]:
        container.pop("readinessProbe", None)
    return docs


def on_delete(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statefulset_of(docs)["spec"]["updateStrategy"] = {"type": "OnDelete"}
    return docs


def as_root(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statefulset_of(docs)["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = 0
    return docs


def test_readiness_without_a_probe_fails_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "no-readiness.yaml", without_readiness)
    result = run_drill(pytester, monkeypatch, shared, "neg-noready", manifest, "readiness")
    assert result.parseoutcomes().get("failed", 0) == 1
    result.stdout.fnmatch_lines(["*zk-0 has no readinessProbe: nothing takes a server that "
                                 "stops serving out of zk-cs*"])


def test_update_under_on_delete_fails_naming_the_strategy(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "on-delete.yaml", on_delete)
    result = run_drill(pytester, monkeypatch, shared, "neg-ondelete", manifest, "update")
    assert result.parseoutcomes().get("failed", 0) == 1
    result.stdout.fnmatch_lines(["*statefulset zk uses updateStrategy OnDelete: a patched "
                                 "template replaces no pod*"])


def test_config_fails_when_the_server_runs_as_root(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "root.yaml", as_root)
    result = run_drill(pytester, monkeypatch, shared, "neg-root", manifest, "config")
    assert result.parseoutcomes().get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*zk-0's java runs as uid [[]0[]], expected 1000*"])
