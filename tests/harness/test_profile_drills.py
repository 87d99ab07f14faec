"""The sanity and process drills on each shipped image profile's example manifest.

One localkube for the module; each example (the Bitnami chart, the official image, the
Pravega operator's StatefulSet) is deployed by a child pytest the way a user runs it
(``--manifest``, ``--zk-profile=auto`` and the StatefulSet taken from the manifest), in the
namespace the manifests name (``default``), one after the other, each deleted at its end.
The full per-profile table (liveness, drain ...) is in docs/drills.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.localkube_process import LocalkubeProcess
from tests.harness.drillrun import (
    REPO,
    child_env,
    cluster_in,
    drill_args,
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


@pytest.mark.parametrize(("example", "profile", "statefulset"), [
    ("bitnami-zookeeper.yaml", "bitnami-zookeeper", "zookeeper"),
    ("official-zookeeper.yaml", "zookeeper", "zoo"),
    ("pravega-zookeeper.yaml", "pravega-zookeeper", "pravega-zk"),
])
def test_sanity_and_process_on_each_profile(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared: LocalkubeProcess,
    example: str, profile: str, statefulset: str,
) -> None:
    for name, value in child_env().items():
        monkeypatch.setenv(name, value)
    cluster_in(shared.kubeconfig, "default").close()
    args = drill_args(shared.kubeconfig, "default", pytester.path / "reports",
                      EXAMPLES / example)
    result = pytester.runpytest_subprocess(*args, "-m", "sanity or process", "-v",
                                           timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=3)
    report = json.loads(next((pytester.path / "reports").glob("*.json")).read_text())
    assert f"ok: image profile: {profile} (harness/profiles/" in " ".join(
        report["setup"]["notes"])
    cluster = cluster_in(shared.kubeconfig, "default")
    try:
        assert cluster.statefulset(statefulset) is None, "the run left its StatefulSet"
    finally:
        cluster.close()


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
