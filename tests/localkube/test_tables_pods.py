"""Server-side Table rendering of pods: the columns and the Ready/Status/Restarts cells
kubectl prints for each container and init-container state (the tutorial's lifecycle and
`pkill java` sequences included), the wide cells, row conditions and Table options.

Pods have the most involved printer, so they have their own module; other kinds are in
test_tables_workloads.py and test_tables_kinds.py.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from localkube.apiserver.tables import column_definitions, row_cells, to_table
from tests.localkube.table_fixtures import NOW, ago


def pod(
    *,
    phase: str = "Running",
    statuses: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    init_containers: list[dict] | None = None,
    containers: int = 1,
    conditions: list[dict] | None = None,
    **extra: object,
) -> dict:
    obj = {
        "kind": "Pod",
        "metadata": {"name": "zk-0", "namespace": "default", "creationTimestamp": ago(minutes=5)},
        "spec": {
            "containers": [{"name": f"c{i}"} for i in range(containers)],
            "nodeName": "node-1",
        },
        "status": {
            "phase": phase,
            "conditions": conditions or [],
            "containerStatuses": statuses or [],
        },
    }
    if init_containers is not None:
        obj["spec"]["initContainers"] = init_containers
    if init_statuses is not None:
        obj["status"]["initContainerStatuses"] = init_statuses
    obj.update(extra)
    return obj


def running(ready: bool = True, restarts: int = 0, finished: str | None = None) -> dict:
    cs: dict = {
        "name": "c0",
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(minutes=1)}},
        "lastState": {},
    }
    if finished:
        cs["lastState"] = {
            "terminated": {"exitCode": 137, "reason": "Error", "finishedAt": finished}
        }
    return cs


def pod_cells(p: dict) -> tuple[str, str, str]:
    cells = row_cells("Pod", p, NOW)
    return cells[1], cells[2], cells[3]


READY = [{"type": "Ready", "status": "True"}]


def test_pod_columns() -> None:
    cols = column_definitions("pods")
    assert [c["name"] for c in cols] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    assert [c["priority"] for c in cols] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert cols[0]["format"] == "name" and cols[3]["type"] == "string"


def test_tutorial_pod_lifecycle_rows() -> None:
    assert pod_cells(pod(phase="Pending")) == ("0/1", "Pending", "0")
    creating = {
        "name": "c0",
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": "ContainerCreating"}},
    }
    assert pod_cells(pod(phase="Pending", statuses=[creating])) == ("0/1", "ContainerCreating", "0")
    assert pod_cells(pod(statuses=[running(ready=False)])) == ("0/1", "Running", "0")
    assert pod_cells(pod(statuses=[running()], conditions=READY)) == ("1/1", "Running", "0")


def test_pkill_java_sequence() -> None:
    errored = {
        "name": "c0",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": ago(seconds=2)}},
    }
    assert pod_cells(pod(statuses=[errored])) == ("0/1", "Error", "0")
    again = running(ready=False, restarts=1, finished=ago(seconds=40))
    assert pod_cells(pod(statuses=[again])) == ("0/1", "Running", "1 (40s ago)")
    ready = running(ready=True, restarts=1, finished=ago(minutes=5, seconds=3))
    assert pod_cells(pod(statuses=[ready], conditions=READY)) == ("1/1", "Running", "1 (5m3s ago)")


def test_crash_loop_and_exit_codes() -> None:
    backoff = {
        "name": "c0",
        "ready": False,
        "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=2)}},
    }
    assert pod_cells(pod(statuses=[backoff])) == ("0/1", "CrashLoopBackOff", "4 (2m ago)")
    code = {
        "name": "c0",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 3}},
    }
    assert pod_cells(pod(statuses=[code]))[1] == "ExitCode:3"
    signal = {
        "name": "c0",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 137, "signal": 9}},
    }
    assert pod_cells(pod(statuses=[signal]))[1] == "Signal:9"


def test_first_container_wins_and_completed_becomes_running() -> None:
    done = {
        "name": "c0",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    alive = {"name": "c1", "ready": True, "restartCount": 2, "state": {"running": {}}}
    assert pod_cells(pod(containers=2, statuses=[done, alive], conditions=READY)) == (
        "1/2",
        "Running",
        "2",
    )
    assert pod_cells(pod(containers=2, statuses=[done, alive]))[1] == "NotReady"
    waiting = {
        "name": "c1",
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": "ImagePullBackOff"}},
    }
    failing = {
        "name": "c0",
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": "ErrImagePull"}},
    }
    assert pod_cells(pod(containers=2, statuses=[failing, waiting]))[1] == "ErrImagePull"


def test_init_containers() -> None:
    init = [{"name": "i0"}, {"name": "i1"}]
    pending = {
        "name": "i0",
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": "PodInitializing"}},
    }
    assert pod_cells(pod(phase="Pending", init_containers=init, init_statuses=[pending]))[1] == (
        "Init:0/2"
    )
    done = {"name": "i0", "restartCount": 0, "state": {"terminated": {"exitCode": 0}}}
    running_init = {"name": "i1", "restartCount": 0, "state": {"running": {}}}
    assert (
        pod_cells(pod(phase="Pending", init_containers=init, init_statuses=[done, running_init]))[1]
        == "Init:1/2"
    )
    crashed = {
        "name": "i0",
        "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    }
    _ready, status, restarts = pod_cells(
        pod(phase="Pending", init_containers=init, init_statuses=[crashed])
    )
    assert (status, restarts) == ("Init:CrashLoopBackOff", "3")
    failed = {"name": "i0", "restartCount": 0, "state": {"terminated": {"exitCode": 2}}}
    assert (
        pod_cells(pod(phase="Pending", init_containers=init, init_statuses=[failed]))[1]
        == "Init:ExitCode:2"
    )
    killed = {
        "name": "i0",
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 137, "signal": 9}},
    }
    assert (
        pod_cells(pod(phase="Pending", init_containers=init, init_statuses=[killed]))[1]
        == "Init:Signal:9"
    )
    oom = {
        "name": "i0",
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
    }
    assert (
        pod_cells(pod(phase="Pending", init_containers=init, init_statuses=[oom]))[1]
        == "Init:OOMKilled"
    )


def test_sidecar_init_containers_count_towards_ready() -> None:
    init = [{"name": "side", "restartPolicy": "Always"}]
    side = {
        "name": "side",
        "ready": True,
        "started": True,
        "restartCount": 1,
        "state": {"running": {}},
    }
    p = pod(init_containers=init, init_statuses=[side], statuses=[running()], conditions=READY)
    assert pod_cells(p) == ("2/2", "Running", "1")


def test_terminating_and_node_lost() -> None:
    p = pod(statuses=[running()], conditions=READY)
    p["metadata"]["deletionTimestamp"] = ago(seconds=-30)
    assert pod_cells(p)[1] == "Terminating"
    p["status"]["reason"] = "NodeLost"
    assert pod_cells(p)[1] == "Unknown"
    finished = pod(
        phase="Failed",
        statuses=[
            {
                "name": "c0",
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 143, "reason": "Error"}},
            }
        ],
    )
    finished["metadata"]["deletionTimestamp"] = ago(seconds=1)
    assert pod_cells(finished)[1] == "Error"


def test_scheduling_gated_and_status_reason() -> None:
    gated = pod(
        phase="Pending",
        conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
    )
    assert pod_cells(gated)[1] == "SchedulingGated"
    evicted = pod(phase="Failed")
    evicted["status"]["reason"] = "Evicted"
    assert pod_cells(evicted)[1] == "Evicted"


def test_pod_wide_cells_and_row_shape() -> None:
    p = pod(statuses=[running()], conditions=READY)
    p["status"]["podIPs"] = [{"ip": "127.1.0.2"}]
    p["status"]["podIP"] = "ignored"
    p["spec"]["readinessGates"] = [{"conditionType": "Ready"}, {"conditionType": "x"}]
    table = to_table("Pod", [p], NOW, "17")
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "17"}
    row = table["rows"][0]
    assert row["cells"] == [
        "zk-0",
        "1/1",
        "Running",
        "0",
        "5m",
        "127.1.0.2",
        "node-1",
        "<none>",
        "1/2",
    ]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": p["metadata"],
    }
    assert "conditions" not in row
    bare = to_table("Pod", [pod(phase="Pending")], NOW)["rows"][0]["cells"]
    assert bare[5:] == ["<none>", "node-1", "<none>", "<none>"]


def test_completed_pods_carry_row_conditions() -> None:
    row = to_table("pods", [pod(phase="Succeeded")], NOW)["rows"][0]
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert to_table("pods", [pod(phase="Failed")], NOW)["rows"][0]["conditions"][0]["reason"] == (
        "Failed"
    )


def test_include_object_and_no_headers() -> None:
    p = pod()
    full = to_table("Pod", [p], NOW, include_object="Object")
    assert full["rows"][0]["object"] == p
    assert "object" not in to_table("Pod", [p], NOW, include_object="None")["rows"][0]
    assert to_table("Pod", [p], NOW, no_headers=True)["columnDefinitions"] == []
    empty = to_table("Pod", [], NOW, "5")
    assert empty["rows"] == [] and len(empty["columnDefinitions"]) == 9


@given(st.lists(st.booleans(), min_size=1, max_size=4))
def test_pod_ready_counts_ready_running_containers(flags: list[bool]) -> None:
    statuses = [
        {"name": f"c{i}", "ready": f, "restartCount": 0, "state": {"running": {}}}
        for i, f in enumerate(flags)
    ]
    ready = pod_cells(pod(containers=len(flags), statuses=statuses))[0]
    assert ready == f"{sum(flags)}/{len(flags)}"
