"""Server-side Table rendering of nodes, services, endpoints and workloads (StatefulSet,
ControllerRevision, Deployment, ReplicaSet, PodDisruptionBudget): the columns and cells as
kube-apiserver's printers produce them.

These are the kinds the tutorial lists besides pods (which are in test_tables_pods.py);
storage, config and events are in test_tables_kinds.py.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from localkube.apiserver.tables import column_definitions, row_cells
from tests.localkube.table_fixtures import NOW, ago, names


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


@given(st.integers(min_value=0, max_value=4), st.integers(min_value=0, max_value=4))
def test_statefulset_ready_cell(ready: int, replicas: int) -> None:
    sts = {
        "metadata": {"name": "s"},
        "spec": {"replicas": replicas},
        "status": {"readyReplicas": ready},
    }
    assert row_cells("StatefulSet", sts, NOW)[1] == f"{ready}/{replicas}"
