"""The disruption drills fail, and say why, when the ensemble lacks what the tutorial relies on.

Each test writes a weakened copy of the tutorial manifest, runs one drill against it in a
child pytest (``pytester``) on this module's localkube, and checks the failure message:

- no PodDisruptionBudget: ``drain`` fails saying the second eviction was allowed;
- a budget of ``maxUnavailable: 2`` on three servers: ``drain`` fails naming the quorum it
  lets go;
- no pod anti-affinity: ``spread`` fails saying nothing keeps the servers apart;
- no liveness probe: ``liveness`` fails with the finding that nothing restarts a hung server;
- preferred (soft) anti-affinity: ``spread`` fails naming it;
- the upstream tutorial's label mismatch (pods labelled ``app.kubernetes.io/name: zk``, the
  anti-affinity selecting ``app in (zk)``): ``spread`` fails naming both;
- a tcpSocket-only liveness probe: ``liveness`` hangs the server and fails with the finding
  that the probe does not notice.
- no readiness probe: ``readiness`` fails saying nothing takes a server out of zk-cs;
- ``updateStrategy: OnDelete``: ``update`` fails naming the strategy;
- ``runAsUser: 0``: ``config`` fails naming the uid;
- ``--upgrade-image`` naming an image that cannot be pulled: ``upgrade`` fails at once naming
  the pull error, and its undo rolls back.

Whatever the drill did is undone by its own teardown: afterwards no node is cordoned.
"""

from __future__ import annotations

import json
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


def budget_of_two(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for doc in docs:
        if doc["kind"] == "PodDisruptionBudget":
            doc["spec"]["maxUnavailable"] = 2
    return docs


def test_drain_with_a_budget_that_lets_the_quorum_go_fails_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "pdb-2.yaml", budget_of_two)
    result = run_drill(pytester, monkeypatch, shared, "neg-pdb2", manifest, "drain")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*finding: pdb/zk-pdb (maxUnavailable 2) allows 2 disruptions "
                                 "of 3 servers, leaving 1: less than the quorum of 2*"])


def test_spread_without_anti_affinity_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "no-affinity.yaml", without_anti_affinity)
    result = run_drill(pytester, monkeypatch, shared, "neg-noaffinity", manifest, "spread")
    assert result.parseoutcomes().get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*nothing guarantees the servers run on different nodes: "
                                 "the pod template has no required podAntiAffinity*"])


def test_liveness_without_a_probe_fails_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "no-liveness.yaml", without_liveness)
    result = run_drill(pytester, monkeypatch, shared, "neg-noliveness", manifest, "liveness")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*finding: zk-0 has no livenessProbe*a server that hangs*is "
                                 "never restarted*"])


def soft_anti_affinity(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    anti = statefulset_of(docs)["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    term = anti.pop("requiredDuringSchedulingIgnoredDuringExecution")[0]
    anti["preferredDuringSchedulingIgnoredDuringExecution"] = [
        {"weight": 100, "podAffinityTerm": term}]
    return docs


def upstream_label_mismatch(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """kubernetes/website's zookeeper.yaml today: new-style labels, the old selector."""
    for doc in docs:
        for path in (("spec", "selector", "matchLabels"), ("spec", "selector"),
                     ("spec", "template", "metadata", "labels")):
            node = doc
            for key in path[:-1]:
                node = node.get(key) or {}
            labels = node.get(path[-1])
            if isinstance(labels, dict) and labels.get("app") == "zk":
                labels.pop("app")
                labels["app.kubernetes.io/name"] = "zk"
    return docs


def tcp_socket_liveness(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for container in statefulset_of(docs)["spec"]["template"]["spec"]["containers"]:
        probe = container["livenessProbe"]
        probe.pop("exec")
        probe["tcpSocket"] = {"port": 2181}
    return docs


def test_spread_with_soft_anti_affinity_fails_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "soft.yaml", soft_anti_affinity)
    result = run_drill(pytester, monkeypatch, shared, "neg-soft", manifest, "spread")
    assert result.parseoutcomes().get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*only a preferred one*preferred (soft) anti-affinity lets "
                                 "two servers share a node*"])


def test_spread_with_the_upstream_label_mismatch_fails_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "mismatch.yaml", upstream_label_mismatch)
    result = run_drill(pytester, monkeypatch, shared, "neg-mismatch", manifest, "spread")
    assert result.parseoutcomes().get("failed", 0) >= 1
    result.stdout.fnmatch_lines(["*selects app in (zk) but the pods are labelled "
                                 "app.kubernetes.io/name: zk*does not match*"])


def test_liveness_with_a_tcp_socket_probe_fails_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    manifest = manifest_variant(pytester.path, "tcp-liveness.yaml", tcp_socket_liveness)
    result = run_drill(pytester, monkeypatch, shared, "neg-tcpliveness", manifest, "liveness")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*finding: zk-0's livenessProbe is tcpSocket :2181: a hung "
                                 "server still accepts TCP connections*"])


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
    result.stdout.fnmatch_lines(["*finding: zk-0's java runs as root (uid 0*"])


def test_upgrade_to_an_image_that_cannot_be_pulled_fails_at_once_and_rolls_back(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess
) -> None:
    """The canary cannot start: the drill fails naming the pull error within a minute, not
    after the rollout timeout, and its undo rolls back (deleting the stuck canary, as a
    forced rollback needs) so the end checks find the ensemble whole."""
    result = run_child_drill(pytester, monkeypatch, shared, "neg-upgrade", "upgrade",
                             extra=["--upgrade-image=registry.example/zk:bad"],
                             timeout=RUN_TIMEOUT)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*zk-2 cannot start: *ImagePull*registry.example/zk:bad*"])
    report = json.loads(next((pytester.path / "reports").glob("*.json")).read_text())
    drill = report["drills"][0]
    outcomes = {s["name"]: s["outcome"] for s in drill["steps"]}
    assert outcomes["steady state at end: 3/3 Ready, one leader, same data"] == "passed", outcomes
    canary = next(s for s in drill["steps"] if s["name"].startswith("zk-2 on "))
    assert canary["duration"] < 60, canary["duration"]
