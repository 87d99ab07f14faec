"""Server-side Table rendering: columns and cells as kube-apiserver's printers produce them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localkube.apiserver.tables import column_definitions, row_cells, table_kind, to_table

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(**kw: float) -> str:
    return (NOW - timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


def names(kind: str) -> list[str]:
    return [c["name"] for c in column_definitions(kind)]


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


# -------------------------------------------------------------------------------- pods


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


# ------------------------------------------------------------------------------ others


def test_node_rows() -> None:
    node = {
        "kind": "Node",
        "metadata": {
            "name": "node-1",
            "creationTimestamp": ago(days=3, hours=4),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "kubernetes.io/role": "worker",
                "node-role.kubernetes.io/": "",
            },
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "Hostname", "address": "node-1"},
                {"type": "InternalIP", "address": "127.0.0.1"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Debian",
                "kernelVersion": "6.1",
                "containerRuntimeVersion": "",
            },
        },
    }
    assert names("nodes")[:5] == ["Name", "Status", "Roles", "Age", "Version"]
    assert row_cells("Node", node, NOW) == [
        "node-1",
        "Ready,SchedulingDisabled",
        "control-plane,worker",
        "3d4h",
        "v1.32.0",
        "127.0.0.1",
        "<none>",
        "Debian",
        "6.1",
        "<unknown>",
    ]
    node["spec"] = {}
    node["metadata"]["labels"] = {}
    node["status"]["conditions"] = [{"type": "Ready", "status": "Unknown"}]
    assert row_cells("Node", node, NOW)[1:3] == ["NotReady", "<none>"]
    node["status"]["conditions"] = []
    assert row_cells("Node", node, NOW)[1] == "Unknown"


def test_service_rows() -> None:
    headless = {
        "kind": "Service",
        "metadata": {"name": "zk-hs", "creationTimestamp": ago(hours=1)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "None",
            "clusterIPs": ["None"],
            "ports": [{"port": 2888, "protocol": "TCP"}, {"port": 3888}],
            "selector": {"app": "zk", "a": "b"},
        },
    }
    assert names("services") == [
        "Name",
        "Type",
        "Cluster-IP",
        "External-IP",
        "Port(s)",
        "Age",
        "Selector",
    ]
    assert row_cells("Service", headless, NOW) == [
        "zk-hs",
        "ClusterIP",
        "None",
        "<none>",
        "2888/TCP,3888/TCP",
        "60m",
        "a=b,app=zk",
    ]
    nodeport = {
        "kind": "Service",
        "metadata": {"name": "np"},
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.0.0.5",
            "externalIPs": ["1.2.3.4"],
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "UDP"}],
        },
    }
    assert row_cells("Service", nodeport, NOW)[1:7] == [
        "NodePort",
        "10.0.0.5",
        "1.2.3.4",
        "80:30080/UDP",
        "<unknown>",
        "<none>",
    ]
    lb = {"kind": "Service", "metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer"}}
    assert row_cells("Service", lb, NOW)[2:5] == ["<none>", "<pending>", "<none>"]
    lb["status"] = {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "h"}]}}
    assert row_cells("Service", lb, NOW)[3] == "5.6.7.8,h"
    ext = {
        "kind": "Service",
        "metadata": {"name": "e"},
        "spec": {"type": "ExternalName", "externalName": "example.com"},
    }
    assert row_cells("Service", ext, NOW)[3] == "example.com"


def test_statefulset_and_revision_rows() -> None:
    sts = {
        "kind": "StatefulSet",
        "metadata": {"name": "zk", "creationTimestamp": ago(seconds=45)},
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "kubernetes-zookeeper", "image": "zk:1"},
                        {"name": "side", "image": "b"},
                    ]
                }
            },
        },
        "status": {"readyReplicas": 2},
    }
    assert names("statefulsets.apps") == ["Name", "Ready", "Age", "Containers", "Images"]
    assert row_cells("StatefulSet", sts, NOW) == [
        "zk",
        "2/3",
        "45s",
        "kubernetes-zookeeper,side",
        "zk:1,b",
    ]
    del sts["status"]
    assert row_cells("StatefulSet", sts, NOW)[1] == "0/3"
    rev = {
        "kind": "ControllerRevision",
        "metadata": {
            "name": "zk-5db4499664",
            "creationTimestamp": ago(days=1),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": "zk",
                    "uid": "u",
                    "controller": True,
                }
            ],
        },
        "revision": 2,
    }
    assert names("controllerrevisions") == ["Name", "Controller", "Revision", "Age"]
    assert row_cells("ControllerRevision", rev, NOW) == [
        "zk-5db4499664",
        "statefulset.apps/zk",
        2,
        "24h",
    ]
    rev["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "Pod", "name": "p", "controller": True}
    ]
    assert row_cells("ControllerRevision", rev, NOW)[1] == "pod/p"
    rev["metadata"]["ownerReferences"] = []
    assert row_cells("ControllerRevision", rev, NOW)[1] == "<none>"


def test_pdb_rows() -> None:
    pdb = {
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "zk-pdb", "creationTimestamp": ago(minutes=3)},
        "spec": {"maxUnavailable": 1},
        "status": {"disruptionsAllowed": 1},
    }
    assert names("poddisruptionbudgets") == [
        "Name",
        "Min Available",
        "Max Unavailable",
        "Allowed Disruptions",
        "Age",
    ]
    assert column_definitions("PodDisruptionBudget")[3]["type"] == "integer"
    assert row_cells("PodDisruptionBudget", pdb, NOW) == ["zk-pdb", "N/A", "1", 1, "3m"]
    pdb["spec"] = {"minAvailable": "50%"}
    pdb["status"] = {}
    assert row_cells("PodDisruptionBudget", pdb, NOW)[1:4] == ["50%", "N/A", 0]


def test_pvc_and_pv_rows() -> None:
    pvc = {
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "datadir-zk-0", "creationTimestamp": ago(minutes=10)},
        "spec": {
            "volumeName": "pvc-123",
            "storageClassName": "standard",
            "resources": {"requests": {"storage": "10Gi"}},
        },
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "10240Mi"},
            "accessModes": ["ReadWriteOnce", "ReadWriteMany", "ReadWriteOnce"],
        },
    }
    assert names("persistentvolumeclaims") == [
        "Name",
        "Status",
        "Volume",
        "Capacity",
        "Access Modes",
        "StorageClass",
        "VolumeAttributesClass",
        "Age",
        "VolumeMode",
    ]
    assert row_cells("PersistentVolumeClaim", pvc, NOW) == [
        "datadir-zk-0",
        "Bound",
        "pvc-123",
        "10Gi",
        "RWO,RWX",
        "standard",
        "<unset>",
        "10m",
        "<unset>",
    ]
    pending = {
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "p",
            "annotations": {"volume.beta.kubernetes.io/storage-class": "old"},
            "deletionTimestamp": ago(seconds=1),
        },
        "spec": {"volumeMode": "Filesystem"},
        "status": {"phase": "Pending"},
    }
    assert row_cells("PersistentVolumeClaim", pending, NOW)[1:7] == [
        "Terminating",
        "",
        "",
        "",
        "old",
        "<unset>",
    ]
    assert row_cells("PersistentVolumeClaim", pending, NOW)[8] == "Filesystem"
    pv = {
        "kind": "PersistentVolume",
        "metadata": {"name": "pvc-123"},
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "standard",
            "claimRef": {"namespace": "default", "name": "datadir-zk-0"},
        },
        "status": {"phase": "Bound"},
    }
    assert row_cells("PersistentVolume", pv, NOW) == [
        "pvc-123",
        "10Gi",
        "RWO",
        "Retain",
        "Bound",
        "default/datadir-zk-0",
        "standard",
        "<unset>",
        "",
        "<unknown>",
        "<unset>",
    ]


def test_small_kinds() -> None:
    ns = {
        "kind": "Namespace",
        "metadata": {"name": "default", "creationTimestamp": ago(days=9)},
        "status": {"phase": "Active"},
    }
    assert row_cells("Namespace", ns, NOW) == ["default", "Active", "9d"]
    cm = {
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1", "b": "2"},
        "binaryData": {"c": "AA=="},
    }
    assert row_cells("configmaps", cm, NOW) == ["c", 3, "<unknown>"]
    secret = {"kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "x"}}
    assert row_cells("Secret", secret, NOW) == ["s", "Opaque", 1, "<unknown>"]
    sc = {
        "kind": "StorageClass",
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "localkube/hostpath",
    }
    assert names("storageclasses") == [
        "Name",
        "Provisioner",
        "ReclaimPolicy",
        "VolumeBindingMode",
        "AllowVolumeExpansion",
        "Age",
    ]
    assert row_cells("StorageClass", sc, NOW) == [
        "standard (default)",
        "localkube/hostpath",
        "Delete",
        "Immediate",
        False,
        "<unknown>",
    ]
    sc["metadata"]["annotations"] = {}
    sc.update(
        reclaimPolicy="Retain", volumeBindingMode="WaitForFirstConsumer", allowVolumeExpansion=True
    )
    assert row_cells("StorageClass", sc, NOW)[:5] == [
        "standard",
        "localkube/hostpath",
        "Retain",
        "WaitForFirstConsumer",
        True,
    ]


def test_endpoints_rows() -> None:
    ep = {
        "kind": "Endpoints",
        "metadata": {"name": "zk-cs"},
        "subsets": [
            {
                "addresses": [{"ip": "127.1.0.2"}, {"ip": "127.1.0.3"}],
                "ports": [{"port": 2181}, {"port": 2888}],
            }
        ],
    }
    assert (
        row_cells("Endpoints", ep, NOW)[1]
        == "127.1.0.2:2181,127.1.0.3:2181,127.1.0.2:2888 + 1 more..."
    )
    assert row_cells("Endpoints", {"metadata": {"name": "x"}}, NOW)[1] == "<none>"
    headless = {"metadata": {"name": "h"}, "subsets": [{"addresses": [{"ip": "::1"}]}]}
    assert row_cells("Endpoints", headless, NOW)[1] == "::1"
    v6 = {
        "metadata": {"name": "v6"},
        "subsets": [{"addresses": [{"ip": "::1"}], "ports": [{"port": 80}]}],
    }
    assert row_cells("Endpoints", v6, NOW)[1] == "[::1]:80"


def test_event_rows() -> None:
    ev = {
        "kind": "Event",
        "metadata": {"name": "zk-0.17a"},
        "involvedObject": {"kind": "Pod", "name": "zk-0", "fieldPath": "spec.containers{zk}"},
        "reason": "Killing",
        "type": "Normal",
        "message": " Stopping container zk\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(minutes=4),
        "lastTimestamp": ago(seconds=30),
        "count": 2,
    }
    assert names("events") == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Subobject",
        "Source",
        "Message",
        "First Seen",
        "Count",
        "Name",
    ]
    assert row_cells("Event", ev, NOW) == [
        "30s",
        "Normal",
        "Killing",
        "pod/zk-0",
        "spec.containers{zk}",
        "kubelet, node-1",
        "Stopping container zk",
        "4m",
        2,
        "zk-0.17a",
    ]
    new_style = {
        "kind": "Event",
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Node"},
        "eventTime": ago(minutes=1),
        "reportingComponent": "default-scheduler",
        "series": {"count": 5, "lastObservedTime": ago(seconds=10)},
    }
    cells = row_cells("Event", new_style, NOW)
    assert cells[0] == "10s" and cells[3] == "node" and cells[5] == "default-scheduler"
    assert cells[7] == "60s" and cells[8] == 5
    singleton = {"metadata": {"name": "s"}, "involvedObject": {}, "eventTime": ago(seconds=3)}
    assert row_cells("Event", singleton, NOW)[0] == "3s"
    assert row_cells("Event", singleton, NOW)[8] == 1


def test_workload_rows() -> None:
    dep = {
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "n", "image": "nginx"}]}},
        },
        "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1},
    }
    assert row_cells("Deployment", dep, NOW) == [
        "web",
        "1/2",
        2,
        1,
        "<unknown>",
        "n",
        "nginx",
        "app=web",
    ]
    rs = {
        "kind": "ReplicaSet",
        "metadata": {"name": "web-1"},
        "spec": {"replicas": 2, "selector": {}},
        "status": {"replicas": 2},
    }
    assert row_cells("ReplicaSet", rs, NOW) == ["web-1", 2, 2, 0, "<unknown>", "", "", "<none>"]


def test_default_table_for_unknown_kinds() -> None:
    widget = {
        "kind": "Widget",
        "metadata": {"name": "w", "creationTimestamp": "2024-01-01T13:00:00+01:00"},
    }
    table = to_table("widgets.example.com", [widget], NOW, "9")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    assert table["columnDefinitions"][1]["type"] == "date"
    assert table["rows"][0]["cells"] == ["w", "2024-01-01T12:00:00Z"]
    assert row_cells("Widget", {"metadata": {"name": "x"}}, NOW) == ["x", "0001-01-01T00:00:00Z"]


def test_kind_resolution() -> None:
    assert table_kind("pods") == "Pod"
    assert table_kind("Pod") == "Pod"
    assert table_kind("statefulsets.apps") == "StatefulSet"
    assert table_kind("statefulset") == "StatefulSet"
    assert table_kind("widgets") is None
    cols = column_definitions("Pod")
    cols[0]["name"] = "changed"
    assert column_definitions("Pod")[0]["name"] == "Name"


@given(st.integers(min_value=0, max_value=4), st.integers(min_value=0, max_value=4))
def test_statefulset_ready_cell(ready: int, replicas: int) -> None:
    sts = {
        "metadata": {"name": "s"},
        "spec": {"replicas": replicas},
        "status": {"readyReplicas": ready},
    }
    assert row_cells("StatefulSet", sts, NOW)[1] == f"{ready}/{replicas}"


@given(st.lists(st.booleans(), min_size=1, max_size=4))
def test_pod_ready_counts_ready_running_containers(flags: list[bool]) -> None:
    statuses = [
        {"name": f"c{i}", "ready": f, "restartCount": 0, "state": {"running": {}}}
        for i, f in enumerate(flags)
    ]
    ready = pod_cells(pod(containers=len(flags), statuses=statuses))[0]
    assert ready == f"{sum(flags)}/{len(flags)}"


@pytest.mark.parametrize("now", [NOW, "2024-01-01T12:00:00Z", NOW.timestamp()])
def test_now_may_be_given_in_any_form(now: object) -> None:
    assert (
        row_cells("Namespace", {"metadata": {"name": "n", "creationTimestamp": ago(hours=2)}}, now)[
            2
        ]
        == "120m"
    )
