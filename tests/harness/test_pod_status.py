"""kubectl's READY / STATUS / RESTARTS columns over realistic pods, tutorial sequences first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kubernetes.client import (
    ApiClient,
    V1Container,
    V1ContainerState,
    V1ContainerStateRunning,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1ObjectMeta,
    V1Pod,
    V1PodCondition,
    V1PodSpec,
    V1PodStatus,
)

from harness.model.pod_status import (
    PodSnapshot,
    human_duration,
    is_pod_ready,
    pod_columns,
    restarts_column,
)
from tests.harness.pods import (
    FINISHED,
    condition,
    pod,
    running,
    status,
    terminated,
    waiting,
)


def row(p: dict) -> str:
    cols = pod_columns(p)
    return f"{cols.ready} {cols.status} {cols.restarts}"


def test_creation_sequence_of_the_tutorial():
    """zk-0: Pending, Pending, ContainerCreating, 0/1 Running, 1/1 Running."""
    unscheduled = pod(phase="Pending", node=None, statuses=None)
    scheduled = pod(phase="Pending", conditions=[condition("PodScheduled", True)])
    creating = pod(
        phase="Pending",
        statuses=[status(waiting("ContainerCreating"))],
        ready=False,
    )
    started = pod(statuses=[status(running(), started=True)], ready=False)
    ready = pod(statuses=[status(running(), ready=True, started=True)], ready=True)
    assert [row(p) for p in (unscheduled, scheduled, creating, started, ready)] == [
        "0/1 Pending 0",
        "0/1 Pending 0",
        "0/1 ContainerCreating 0",
        "0/1 Running 0",
        "1/1 Running 0",
    ]


def test_pkill_java_sequence_of_the_tutorial():
    """`kubectl exec zk-0 -- pkill java`: 0/1 Error 0 -> 0/1 Running 1 -> 1/1 Running 1."""
    crashed = pod(statuses=[status(terminated(143, "Error"))], ready=False)
    restarted_last = terminated(143, "Error")
    restarted = pod(statuses=[status(running(), restarts=1, last=restarted_last)], ready=False)
    ready_again = pod(
        statuses=[status(running(), ready=True, restarts=1, last=restarted_last)], ready=True
    )
    assert [row(p) for p in (crashed, restarted, ready_again)] == [
        "0/1 Error 0",
        "0/1 Running 1",
        "1/1 Running 1",
    ]
    snap = PodSnapshot.from_pod(restarted)
    assert snap.containers[0].last_exit_code == 143
    assert snap.containers[0].last_reason == "Error"


def test_liveness_sequence_of_the_tutorial():
    """Removing zookeeper-ready: 0/1 Running 0 -> 0/1 Running 1 -> 1/1 Running 1."""
    last = terminated(137, "Error")
    unready = pod(statuses=[status(running())], ready=False)
    restarted = pod(statuses=[status(running(), restarts=1, last=last)], ready=False)
    back = pod(statuses=[status(running(), ready=True, restarts=1, last=last)], ready=True)
    assert [row(p) for p in (unready, restarted, back)] == [
        "0/1 Running 0",
        "0/1 Running 1",
        "1/1 Running 1",
    ]


def test_drain_shows_terminating_with_restarts_kept():
    """Tutorial drain: `1/1 Terminating 2` then `0/1 Terminating 2`."""
    last = terminated(143, "Error")
    serving = pod(
        statuses=[status(running(), ready=True, restarts=2, last=last)], ready=True, deleting=True
    )
    stopping = pod(statuses=[status(running(), restarts=2, last=last)], ready=False, deleting=True)
    assert row(serving) == "1/1 Terminating 2"
    assert row(stopping) == "0/1 Terminating 2"
    assert PodSnapshot.from_pod(serving).deleting


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            waiting("CrashLoopBackOff", "back-off 20s restarting failed container"),
            "CrashLoopBackOff",
        ),
        (waiting("ErrImagePull"), "ErrImagePull"),
        (waiting("ImagePullBackOff"), "ImagePullBackOff"),
        (waiting("CreateContainerConfigError"), "CreateContainerConfigError"),
        (terminated(137, "OOMKilled"), "OOMKilled"),
        (terminated(0, "Completed"), "Completed"),
        (terminated(3), "ExitCode:3"),
        (terminated(137, signal=9), "Signal:9"),
        (waiting(""), "Running"),  # an empty waiting reason leaves the phase
    ],
)
def test_container_reason_replaces_the_phase(state, expected):
    assert pod_columns(pod(statuses=[status(state, restarts=3)], ready=False)).status == expected


def test_first_container_wins_because_statuses_are_walked_last_to_first():
    p = pod(
        containers=["a", "b"],
        statuses=[
            status(waiting("CrashLoopBackOff"), name="a"),
            status(waiting("ImagePullBackOff"), name="b"),
        ],
    )
    assert row(p) == "0/2 CrashLoopBackOff 0"


def test_completed_with_a_running_container_reads_running_or_notready():
    statuses = [
        status(terminated(0, "Completed"), name="a"),
        status(running(), name="b", ready=True),
    ]
    with_ready = pod(containers=["a", "b"], statuses=statuses, ready=True)
    without = pod(containers=["a", "b"], statuses=statuses, ready=False)
    assert row(with_ready) == "1/2 Running 0"
    assert row(without) == "1/2 NotReady 0"


def test_running_but_unready_container_does_not_rescue_completed():
    statuses = [status(terminated(0, "Completed"), name="a"), status(running(), name="b")]
    assert row(pod(containers=["a", "b"], statuses=statuses, ready=False)) == "0/2 Completed 0"


@pytest.mark.parametrize(
    ("init_state", "expected"),
    [
        (waiting("PodInitializing"), "Init:0/1"),
        (running(), "Init:0/1"),
        (waiting("CrashLoopBackOff"), "Init:CrashLoopBackOff"),
        (terminated(1, "Error"), "Init:Error"),
        (terminated(2), "Init:ExitCode:2"),
        (terminated(2, signal=15), "Init:Signal:15"),
    ],
)
def test_init_containers(init_state, expected):
    p = pod(
        phase="Pending",
        init_containers=[{"name": "init", "image": "busybox"}],
        init_statuses=[status(init_state, name="init", restarts=1)],
        statuses=[status(waiting("PodInitializing"))],
    )
    cols = pod_columns(p)
    assert cols.status == expected
    assert cols.restarts == 1  # initializing: only init restarts are counted


def test_finished_init_container_hands_over_to_the_main_container():
    p = pod(
        init_containers=[{"name": "init", "image": "busybox"}],
        init_statuses=[status(terminated(0, "Completed"), name="init", restarts=2)],
        statuses=[status(running(), ready=True, restarts=1)],
        ready=True,
    )
    assert row(p) == "1/1 Running 1"  # init restarts stop counting once initialised


def test_restartable_init_container_counts_as_a_container():
    sidecar = {"name": "sidecar", "image": "busybox", "restartPolicy": "Always"}
    p = pod(
        init_containers=[sidecar],
        init_statuses=[status(running(), name="sidecar", ready=True, started=True, restarts=1)],
        statuses=[status(running(), ready=True, restarts=2)],
        ready=True,
    )
    assert row(p) == "2/2 Running 3"


def test_terminal_phase_with_deletion_is_not_terminating():
    p = pod(phase="Failed", statuses=[status(terminated(143, "Error"))], deleting=True)
    assert row(p) == "0/1 Error 0"


def test_pod_reason_and_node_lost():
    evicted = pod(phase="Failed", reason="Evicted", statuses=[])
    lost = pod(reason="NodeLost", statuses=[status(running(), ready=True)], deleting=True)
    assert pod_columns(evicted).status == "Evicted"
    assert pod_columns(lost).status == "Unknown"


def test_scheduling_gate_and_unschedulable():
    gated = pod(
        phase="Pending", node=None, conditions=[condition("PodScheduled", False, "SchedulingGated")]
    )
    unschedulable = pod(
        phase="Pending", node=None, conditions=[condition("PodScheduled", False, "Unschedulable")]
    )
    assert row(gated) == "0/1 SchedulingGated 0"
    assert row(unschedulable) == "0/1 Pending 0"


def test_restarts_column_shows_age_of_last_exit():
    last = terminated(143, "Error", finished_at=FINISHED)
    p = pod(statuses=[status(running(), ready=True, restarts=1, last=last)], ready=True)
    now = datetime(2024, 5, 1, 10, 34, 3, tzinfo=UTC)
    assert restarts_column(p, now) == "1 (5m3s ago)"
    assert restarts_column(pod(statuses=[status(running())]), now) == "0"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (45, "45s"),
        (119, "119s"),
        (303, "5m3s"),
        (600, "10m"),
        (3 * 3600 + 600, "3h10m"),
        (10 * 3600, "10h"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400 + 10 * 86400, "3y10d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration(seconds, text):
    assert human_duration(timedelta(seconds=seconds)) == text


def test_snapshot_records_what_timelines_need():
    p = pod(statuses=[status(running(), ready=True, restarts=1, started=True)], ready=True)
    snap = PodSnapshot.from_pod(p)
    assert snap.row() == "zk-0 1/1 Running 1"
    assert (snap.name, snap.namespace, snap.uid, snap.resource_version) == (
        "zk-0",
        "default",
        "uid-zk-0",
        "1234",
    )
    assert (snap.phase, snap.ready, snap.node, snap.pod_ip) == (
        "Running",
        True,
        "node-1",
        "127.1.0.2",
    )
    assert snap.revision == "zk-5db4499664"
    assert snap.containers[0].state == "running"
    assert snap.as_dict()["containers"][0]["restart_count"] == 1
    with pytest.raises(AttributeError):
        snap.status = "Error"  # type: ignore[misc]


def test_python_client_shapes_agree():
    """``V1Pod.to_dict()`` (snake_case, datetimes) and the JSON shape give the same answer."""
    finished = datetime(2024, 5, 1, 10, 29, tzinfo=UTC)
    model = V1Pod(
        metadata=V1ObjectMeta(name="zk-1", namespace="default", uid="u1", resource_version="7"),
        spec=V1PodSpec(containers=[V1Container(name="kubernetes-zookeeper")], node_name="node-2"),
        status=V1PodStatus(
            phase="Running",
            pod_ip="127.1.0.3",
            conditions=[V1PodCondition(type="Ready", status="False")],
            container_statuses=[
                V1ContainerStatus(
                    name="kubernetes-zookeeper",
                    image="zk",
                    image_id="",
                    ready=False,
                    restart_count=1,
                    state=V1ContainerState(running=V1ContainerStateRunning()),
                    last_state=V1ContainerState(
                        terminated=V1ContainerStateTerminated(
                            exit_code=143, reason="Error", finished_at=finished
                        )
                    ),
                )
            ],
        ),
    )
    as_json = ApiClient().sanitize_for_serialization(model)
    as_dict = model.to_dict()
    assert "containerStatuses" in as_json["status"] and "container_statuses" in as_dict["status"]
    assert pod_columns(as_json) == pod_columns(as_dict)
    assert pod_columns(as_dict).last_restart == finished
    assert PodSnapshot.from_pod(as_json) == PodSnapshot.from_pod(as_dict)
    snap = PodSnapshot.from_pod(as_dict)
    assert (snap.row(), snap.node, snap.pod_ip) == ("zk-1 0/1 Running 1", "node-2", "127.1.0.3")


def test_is_pod_ready_reads_the_condition_not_the_containers():
    assert is_pod_ready(pod(statuses=[status(running(), ready=True)], ready=True))
    assert not is_pod_ready(pod(statuses=[status(running(), ready=True)], ready=False))
    assert not is_pod_ready(pod(phase="Pending", node=None))
