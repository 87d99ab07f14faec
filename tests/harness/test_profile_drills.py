"""The sanity, process, liveness and drain drills on each shipped image profile's example.

One localkube for the module; each example (the Bitnami chart, the official image, the
Pravega operator's StatefulSet) is deployed by a child pytest the way a user runs it
(``--manifest``, ``--zk-profile=auto`` and the StatefulSet taken from the manifest), in the
namespace the manifests name (``default``), one after the other, each deleted at its end.
Each drill must pass or fail with the finding the example's configuration makes certain
(the table in docs/drills.md); the other drills per profile are in that table too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.kube.apply import Manifest
from harness.localkube_process import LocalkubeProcess
from tests.harness.drillrun import (
    REPO,
    child_env,
    cluster_in,
    drill_args,
    free_namespaces,
    localkube,
    manifest_variant,
    statefulset_of,
)

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]
RUN_TIMEOUT = 600.0
EXAMPLES = REPO / "harness" / "manifests" / "examples"


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalkubeProcess]:
    with localkube() as process:
        yield process


#: Per example: its profile, its StatefulSet, and what each drill must give there — "passed",
#: or the finding (a fragment of the failure message) its configuration makes certain.
PROFILE_RESULTS = [
    ("bitnami-zookeeper.yaml", "bitnami-zookeeper", "zookeeper", {
        "process": "passed",
        "liveness": "passed",
        "drain": "preferred (soft) anti-affinity lets two servers share a node",
    }),
    ("official-zookeeper.yaml", "zookeeper", "zoo", {
        "process": "passed",
        "liveness": "has no livenessProbe",
        "drain": "no required podAntiAffinity",
    }),
    ("pravega-zookeeper.yaml", "pravega-zookeeper", "pravega-zk", {
        "process": "passed",
        "liveness": "passed",
        "drain": "preferred (soft) anti-affinity lets two servers share a node",
    }),
]


@pytest.mark.parametrize(("example", "profile", "statefulset", "expected"), PROFILE_RESULTS,
                         ids=[r[1] for r in PROFILE_RESULTS])
def test_sanity_process_liveness_and_drain_on_each_profile(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess,
    example: str, profile: str, statefulset: str, expected: dict[str, str],
) -> None:
    for name, value in child_env().items():
        monkeypatch.setenv(name, value)
    cluster_in(shared.kubeconfig, "default").close()
    args = drill_args(shared.kubeconfig, "default", pytester.path / "reports",
                      EXAMPLES / example)
    pytester.runpytest_subprocess(*args, "-m", "sanity or process or liveness or drain",
                                  "-v", timeout=RUN_TIMEOUT)
    report = json.loads(next((pytester.path / "reports").glob("*.json")).read_text())
    assert f"ok: image profile: {profile} (harness/profiles/" in " ".join(
        report["setup"]["notes"])
    results = {_marker(d): (d["outcome"], d.get("message") or "") for d in report["drills"]}
    sanity = [d["outcome"] for d in report["drills"] if "sanity" in d["markers"]]
    assert sanity == ["passed", "passed"], results
    for marker, want in expected.items():
        outcome, message = results[marker]
        if want == "passed":
            assert outcome == "passed", f"{marker}: {outcome}: {message}"
        else:
            assert outcome == "failed" and "finding" in message and want in message, \
                f"{marker}: expected the finding {want!r}, got {outcome}: {message}"
    cluster = cluster_in(shared.kubeconfig, "default")
    try:
        assert cluster.statefulset(statefulset) is None, "the run left its StatefulSet"
        assert not [n["metadata"]["name"] for n in cluster.nodes()
                    if (n.get("spec") or {}).get("unschedulable")], "a node was left cordoned"
    finally:
        cluster.close()


def _marker(drill: dict[str, Any]) -> str:
    return next(m for m in drill["markers"] if m in ("process", "liveness", "drain", "sanity"))


def test_an_image_that_cannot_be_pulled_fails_the_deploy_at_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess,
) -> None:
    """Not the 900 s rollout timeout in silence: one line with the kubelet's reason and
    message, exit 4, and the StatefulSet this run applied deleted again."""

    def unknown_image(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        container = statefulset_of(docs)["spec"]["template"]["spec"]["containers"][0]
        container["image"] = "registry.example/zookeeper:9.9"
        return docs

    for name, value in child_env().items():
        monkeypatch.setenv(name, value)
    namespace = "badimage"
    cluster_in(shared.kubeconfig, namespace).close()
    manifest = manifest_variant(pytester.path, "bad-image.yaml", unknown_image)
    args = drill_args(shared.kubeconfig, namespace, pytester.path / "reports", manifest)
    began = time.monotonic()
    result = pytester.runpytest_subprocess(*args, "-m", "sanity",
                                           "--zk-profile=kubernetes-zookeeper",
                                           timeout=RUN_TIMEOUT)
    took = time.monotonic() - began
    assert result.ret == 4, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines([
        "*zkdrill: zk-0 cannot start: *ImagePull*"
        "registry.example/zookeeper:9.9*image not available in localkube*"])
    assert took < 120, f"the deploy took {took:.0f}s to give up"
    cluster = cluster_in(shared.kubeconfig, namespace)
    try:
        assert cluster.statefulset("zk") is None, "the failed deploy left its StatefulSet"
    finally:
        cluster.close()


def test_use_existing_picks_the_profile_of_a_live_bitnami_release(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess,
) -> None:
    """A new user's first run against the release they already have: ``--use-existing
    --statefulset=<release>`` with ``--zk-profile=auto`` reads the live set's image, picks the
    Bitnami profile, runs sanity, and leaves the release as it found it."""
    for name, value in child_env().items():
        monkeypatch.setenv(name, value)
    namespace = "release"
    cluster = cluster_in(shared.kubeconfig, namespace)
    try:
        text = (EXAMPLES / "bitnami-zookeeper.yaml").read_text()  # rendered for `default`
        release = pytester.path / "release.yaml"
        release.write_text(text.replace('namespace: "default"', f'namespace: "{namespace}"')
                           .replace(".default.svc.", f".{namespace}.svc."))
        cluster.apply(Manifest.load(release))
        args = drill_args(shared.kubeconfig, namespace, pytester.path / "reports",
                          deploy=False)
        result = pytester.runpytest_subprocess(*args, "-m", "sanity", "--use-existing",
                                               "--statefulset=zookeeper", timeout=RUN_TIMEOUT)
        result.assert_outcomes(passed=2)
        report = json.loads(next((pytester.path / "reports").glob("*.json")).read_text())
        assert "ok: image profile: bitnami-zookeeper (harness/profiles/" in " ".join(
            report["setup"]["notes"])
        live = cluster.statefulset("zookeeper")
        assert live is not None, "--use-existing deleted the release"
        assert (live.get("status") or {}).get("readyReplicas") == 3, live.get("status")
    finally:
        free_namespaces(shared.kubeconfig, namespace)
        cluster.close()
