"""StatefulSet identity (ordinals, myid, FQDNs) and rollout math (pure)."""

from __future__ import annotations

import copy

import pytest

from harness.model.objects import container_of
from harness.model.ordinals import (
    Member,
    expected_server_lines,
    members,
    myid,
    ordinal_for_myid,
    ordinal_of,
    pod_fqdn,
    pod_name,
)
from harness.model.rollout import (
    RolloutState,
    expected_update_order,
    is_complete,
    is_observed,
    rollout_progress,
    steady_progress,
)


def test_names_and_ids_of_the_tutorial():
    assert [pod_name("zk", i) for i in range(3)] == ["zk-0", "zk-1", "zk-2"]
    assert [myid(i) for i in range(3)] == [1, 2, 3]
    assert ordinal_for_myid(3) == 2
    assert pod_fqdn("zk", 0, "zk-hs", "default") == "zk-0.zk-hs.default.svc.cluster.local"
    assert expected_server_lines("zk", 3, "zk-hs", "default") == [
        "server.1=zk-0.zk-hs.default.svc.cluster.local:2888:3888",
        "server.2=zk-1.zk-hs.default.svc.cluster.local:2888:3888",
        "server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888",
    ]
    assert members("zk", 2, "zk-hs", "ns", "example.org")[1] == Member(
        1, "zk-1", 2, "zk-1.zk-hs.ns.svc.example.org"
    )


@pytest.mark.parametrize(
    ("pod", "ordinal"),
    [("zk-0", 0), ("zk-12", 12), ("zk-a", None), ("zk", None), ("zkx-1", None), ("my-zk-1", None)],
)
def test_ordinal_of(pod, ordinal):
    assert ordinal_of("zk", pod) == ordinal


def test_ordinal_of_a_set_whose_name_has_dashes():
    assert ordinal_of("my-zk", "my-zk-2") == 2


@pytest.mark.parametrize(
    "bad", [lambda: myid(-1), lambda: ordinal_for_myid(0), lambda: pod_name("zk", -1)]
)
def test_bad_ids(bad):
    with pytest.raises(ValueError):
        bad()


def sts(**status) -> dict:
    """The tutorial's StatefulSet after its rollout finished: revision zk-5db4499664."""
    base = {
        "metadata": {"name": "zk", "generation": 2},
        "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
        "status": {
            "observedGeneration": 2,
            "replicas": 3,
            "readyReplicas": 3,
            "currentReplicas": 3,
            "updatedReplicas": 3,
            "currentRevision": "zk-5db4499664",
            "updateRevision": "zk-5db4499664",
            "collisionCount": 0,
        },
    }
    base["status"].update(status)
    return base


def test_rollout_status_messages_follow_the_tutorial():
    """kubectl rollout status sts/zk, as the tutorial prints it during the cpu patch."""
    during = [
        sts(currentRevision="zk-old", updatedReplicas=0, currentReplicas=3),
        sts(currentRevision="zk-old", updatedReplicas=1, readyReplicas=2),
        sts(currentRevision="zk-old", updatedReplicas=1, currentReplicas=2),
        sts(currentRevision="zk-old", updatedReplicas=2, currentReplicas=1),
    ]
    assert [rollout_progress(s).detail for s in during] == [
        "waiting for statefulset rolling update to complete 0 pods at revision zk-5db4499664...",
        "Waiting for 1 pods to be ready...",
        "waiting for statefulset rolling update to complete 1 pods at revision zk-5db4499664...",
        "waiting for statefulset rolling update to complete 2 pods at revision zk-5db4499664...",
    ]
    assert not any(rollout_progress(s).done for s in during)
    assert not any(is_complete(s) for s in during)
    done = rollout_progress(sts())
    assert done.done
    assert done.detail == "statefulset rolling update complete 3 pods at revision zk-5db4499664..."
    assert is_complete(sts())


def test_status_is_not_trusted_before_it_is_observed():
    stale = sts(observedGeneration=1)
    assert not is_observed(stale)
    assert not is_complete(stale)
    assert rollout_progress(stale).detail == "Waiting for statefulset spec update to be observed..."
    fresh = copy.deepcopy(stale)
    del fresh["status"]["observedGeneration"]
    assert not is_observed(fresh)
    assert is_observed(sts())


def test_partitioned_rollout():
    s = sts(currentRevision="zk-old", updatedReplicas=1)
    s["spec"]["updateStrategy"]["rollingUpdate"] = {"partition": 2}
    progress = rollout_progress(s)
    assert progress.done
    assert progress.detail == "partitioned roll out complete: 1 new pods have been updated..."
    assert is_complete(s)
    s["status"]["updatedReplicas"] = 0
    assert rollout_progress(s).detail == (
        "Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated..."
    )
    assert not is_complete(s)


def test_on_delete_never_completes_a_rollout_wait():
    s = sts()
    s["spec"]["updateStrategy"] = {"type": "OnDelete"}
    progress = rollout_progress(s)
    assert not progress.done
    assert "only available for RollingUpdate" in progress.detail


def test_an_on_delete_set_is_at_rest_when_every_replica_is_ready():
    s = sts(updatedReplicas=1, updateRevision="zk-new")
    s["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert steady_progress(s).done and "under OnDelete" in steady_progress(s).detail
    assert not steady_progress(sts(updateRevision="zk-new", updatedReplicas=1)).done
    s["status"]["readyReplicas"] = 2
    assert steady_progress(s).detail == "Waiting for 1 pods to be ready..."


def test_rollout_state_reads_python_client_dicts():
    snake = {
        "metadata": {"name": "zk", "generation": 3},
        "spec": {
            "replicas": 3,
            "update_strategy": {"type": "RollingUpdate", "rolling_update": None},
        },
        "status": {
            "observed_generation": 3,
            "replicas": 3,
            "ready_replicas": 3,
            "updated_replicas": 3,
            "current_replicas": 3,
            "current_revision": "zk-1",
            "update_revision": "zk-1",
        },
    }
    state = RolloutState.of(snake)
    assert (state.observed, state.partition, state.update_revision) == (True, None, "zk-1")
    assert is_complete(snake)


def test_expected_update_order():
    assert expected_update_order(3) == [2, 1, 0]
    assert expected_update_order(3, partition=2) == [2]
    assert expected_update_order(5, partition=3) == [4, 3]
    assert expected_update_order(3, partition=5) == []
    assert expected_update_order(2, start=5) == [6, 5]
    with pytest.raises(ValueError):
        expected_update_order(-1)


@pytest.mark.parametrize(("container", "patch"), [
    ({"name": "zk", "resources": {"requests": {"cpu": "0.5", "memory": "1Gi"}}},
     [{"op": "replace", "path": "/spec/template/spec/containers/0/resources/requests/cpu",
       "value": "0.3"}]),
    ({"name": "zk", "resources": {"requests": {"memory": "1Gi"}}},
     [{"op": "add", "path": "/spec/template/spec/containers/0/resources/requests/cpu",
       "value": "0.3"}]),
    ({"name": "zk", "resources": {"limits": {"cpu": "1"}}},
     [{"op": "add", "path": "/spec/template/spec/containers/0/resources/requests",
       "value": {"cpu": "0.3"}}]),
    ({"name": "zk"},
     [{"op": "add", "path": "/spec/template/spec/containers/0/resources",
       "value": {"requests": {"cpu": "0.3"}}}]),
])
def test_the_cpu_patch_adds_what_the_template_lacks(container: dict, patch: list) -> None:
    assert container_of({"containers": [container]}, "zk").cpu_request_patch("0.3") == patch
