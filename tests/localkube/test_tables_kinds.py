"""Server-side Table rendering of the remaining kinds (PersistentVolumeClaim,
PersistentVolume, StorageClass, Namespace, ConfigMap, Secret, Event), the default Table for
kinds without a printer, kind resolution, and the forms the current time may be given in.

Pods are in test_tables_pods.py, nodes, services and workloads in test_tables_workloads.py.
"""

from __future__ import annotations

import pytest

from localkube.apiserver.tables import column_definitions, row_cells, table_kind, to_table
from tests.localkube.table_fixtures import NOW, ago, names


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


@pytest.mark.parametrize("now", [NOW, "2024-01-01T12:00:00Z", NOW.timestamp()])
def test_now_may_be_given_in_any_form(now: object) -> None:
    assert (
        row_cells("Namespace", {"metadata": {"name": "n", "creationTimestamp": ago(hours=2)}}, now)[
            2
        ]
        == "120m"
    )
