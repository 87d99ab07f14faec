"""The kube layer against a real ``localkube up --no-kubelets`` control plane (slow).

No containers run, so the tests play the kubelet the way Kubernetes' integration tests do:
they write pod status through the status subresource. That is enough to check what the
harness does with the API: connecting, server-side apply, the pod watcher and the waits
it wakes, and the conditions' details.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.conditions import (
    pod_exists,
    pod_gone,
    pod_running_ready,
    pods_ready,
    pvcs_bound,
    statefulset_rolled_out,
)
from harness.errors import ClusterError, ConfigError
from harness.kube.apply import Manifest
from harness.kube.client import Cluster, connect
from harness.kube.objects import POD
from harness.localkube_process import LocalkubeProcess
from harness.model.progress import Progress
from harness.settings import DEFAULT_MANIFEST
from harness.waits import wait_for

pytest_plugins = ("pytester",)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalkubeProcess]:
    process = LocalkubeProcess(
        nodes=4, state_dir=tmp_path_factory.mktemp("localkube"), extra_args=["--no-kubelets"]
    ).start()
    yield process
    process.stop()


def cluster_in(control_plane: LocalkubeProcess, namespace: str) -> Cluster:
    return connect(control_plane.kubeconfig, None, namespace, create_namespace=True, local=True)


def play_kubelet(cluster: Cluster, pod: str, *, ready: bool) -> None:
    """What a kubelet writes when the container runs and the readiness probe passes."""
    status = {
        "phase": "Running",
        "podIP": "127.77.0.9",
        "conditions": [
            {"type": "ContainersReady", "status": str(ready)},
            {"type": "Ready", "status": str(ready)},
        ],
        "containerStatuses": [
            {
                "name": "kubernetes-zookeeper",
                "image": "k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10",
                "imageID": "",
                "ready": ready,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
            }
        ],
    }
    cluster.patch(POD, pod, {"status": status}, "merge", sub="status")


def test_a_missing_namespace_is_one_line(control_plane: LocalkubeProcess) -> None:
    with pytest.raises(ConfigError) as caught:
        connect(control_plane.kubeconfig, None, "no-such-namespace")
    assert str(caught.value) == (
        "namespace 'no-such-namespace' does not exist on context 'localkube' (fix: kubectl "
        "create namespace no-such-namespace, or pass --namespace)"
    )
    created = cluster_in(control_plane, "no-such-namespace")
    assert created.namespace_exists()


def test_server_side_apply_reports_created_then_configured(
    control_plane: LocalkubeProcess,
) -> None:
    cluster = cluster_in(control_plane, "apply")
    manifest = Manifest.load(DEFAULT_MANIFEST, image="zk:test", container="kubernetes-zookeeper")
    first = cluster.apply(manifest)
    assert [(a.kind, a.name, a.created) for a in first] == [
        ("Service", "zk-hs", True),
        ("Service", "zk-cs", True),
        ("PodDisruptionBudget", "zk-pdb", True),
        ("StatefulSet", "zk", True),
    ]
    again = cluster.apply(manifest)
    assert [a.created for a in again] == [False] * 4
    assert [a.uid for a in again] == [a.uid for a in first]
    sts = cluster.statefulset("zk")
    assert sts is not None
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "zk:test"


def test_a_manifest_for_another_namespace_is_refused(
    control_plane: LocalkubeProcess, tmp_path: Path
) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: prod}\n"
        "spec: {ports: [{port: 1}]}\n"
    )
    with pytest.raises(ConfigError, match=r"document 1 \(Service x\) is in namespace 'prod'"):
        cluster_in(control_plane, "apply-ns").apply(Manifest.load(path))


def test_watcher_records_every_transition_and_wakes_waits(
    control_plane: LocalkubeProcess,
) -> None:
    cluster = cluster_in(control_plane, "watch")
    with cluster.watch_pods("app=zk") as watcher:
        cluster.apply(Manifest.load(DEFAULT_MANIFEST))
        wait_for(pod_exists(watcher, "zk-0"), timeout=30)
        assert watcher.events()[0].type == "ADDED"
        began = time.monotonic()
        play_kubelet(cluster, "zk-0", ready=True)
        # With a 60 s recheck, only a watch event can end this wait within 20 s.
        done = wait_for(pod_running_ready(watcher, "zk-0"), timeout=30, recheck=60)
        woke_after = time.monotonic() - began
        assert done.detail == "zk-0 1/1 Running 0"
        assert woke_after < 20, f"the wait took {woke_after:.2f}s: not woken by the watch"
        rows = [e.pod.row() for e in watcher.events() if e.pod.name == "zk-0"]
        assert rows[0] == "zk-0 0/1 Pending 0"
        assert rows[-1] == "zk-0 1/1 Running 0"
        # OrderedReady: zk-1 follows once zk-0 is Ready
        wait_for(pod_exists(watcher, "zk-1"), timeout=10)
        progress = pods_ready(watcher, 3, ["zk-0", "zk-1", "zk-2"])()
        assert not progress.done
        assert progress.detail.startswith("1/3 Running and Ready; not yet: zk-1 0/1 ")
        assert progress.detail.endswith("zk-2 absent")


def test_a_deleted_pod_is_gone_and_its_claim_stays_bound(
    control_plane: LocalkubeProcess,
) -> None:
    cluster = cluster_in(control_plane, "gone")
    with cluster.watch_pods("app=zk") as watcher:
        cluster.apply(Manifest.load(DEFAULT_MANIFEST))
        wait_for(pvcs_bound(watcher, cluster, ["datadir-zk-0"]), timeout=30)
        wait_for(pod_exists(watcher, "zk-0"), timeout=30)
        uid = watcher.current()["zk-0"].uid
        cluster.delete(POD, "zk-0", grace_seconds=0)
        result = wait_for(pod_gone(watcher, "zk-0", uid=uid), timeout=30)
        assert "is gone" in result.detail
        assert any(e.type == "DELETED" and e.pod.uid == uid for e in watcher.events())
        assert pvcs_bound(None, cluster, ["datadir-zk-0"])().detail == "1/1 Bound"


def test_rollout_waits_report_kubectls_words(control_plane: LocalkubeProcess) -> None:
    cluster = cluster_in(control_plane, "rollout")
    cluster.apply(Manifest.load(DEFAULT_MANIFEST))
    rolled_out = statefulset_rolled_out(None, cluster, "zk")
    observed = wait_for(
        lambda: Progress("observed" not in rolled_out().detail, rolled_out().detail),
        timeout=10,
        recheck=0.1,
    )
    assert observed.detail == "Waiting for 3 pods to be ready..."
    assert not rolled_out().done
    missing = statefulset_rolled_out(None, cluster, "nope")()
    assert missing == Progress(False, "statefulset nope does not exist")


def test_the_periodic_relist_adds_nothing_when_nothing_was_missed(
    control_plane: LocalkubeProcess,
) -> None:
    cluster = cluster_in(control_plane, "relist")
    cluster.apply(Manifest.load(DEFAULT_MANIFEST))
    with cluster.watch_pods("app=zk", relist_every=1.0) as watcher:
        wait_for(
            lambda: Progress(watcher.relists >= 2, f"{watcher.relists} re-lists"),
            timeout=20,
            recheck=0.2,
        )
        kinds = {e.type for e in watcher.events()}
        assert kinds <= {"LISTED", "ADDED", "MODIFIED"}, kinds
        assert watcher.errors == []


def test_exec_without_a_container_fails_with_the_pods_name(
    control_plane: LocalkubeProcess,
) -> None:
    cluster = cluster_in(control_plane, "exec")
    cluster.apply(Manifest.load(DEFAULT_MANIFEST))
    with cluster.watch_pods("app=zk") as watcher:
        wait_for(pod_exists(watcher, "zk-0"), timeout=30)
    with pytest.raises(ClusterError, match="exec in exec/zk-0"):
        cluster.exec("zk-0", ["hostname"], timeout=10)


def run_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> pytest.RunResult:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    for name in [n for n in os.environ if n.startswith("ZKDRILL_")]:
        monkeypatch.delenv(name)
    return pytester.runpytest_subprocess(
        "-p", "harness.plugin", "-p", "no:cacheprovider", "-rs", "-s", *args
    )


def test_a_missing_namespace_stops_the_run_with_one_line(
    control_plane: LocalkubeProcess, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile("def test_drill(cluster):\n    pass\n")
    result = run_plugin(
        pytester,
        monkeypatch,
        "--cluster=kube",
        f"--kubeconfig={control_plane.kubeconfig}",
        "--namespace=absent",
    )
    assert result.ret == 4
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert errors == [
        "ERROR: zkdrill: namespace 'absent' does not exist on context 'localkube' (fix: "
        "kubectl create namespace absent, or pass --namespace)"
    ]
