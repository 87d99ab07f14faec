"""Strategic merge patch: how each kind's lists and maps merge (by merge key, as sets of
primitives, or replaced), the patches kubectl sends for cordon, rollout restart/undo and
adoption, schema resolution, and properties (agreement with merge patch where no strategy
applies, inputs left untouched, each container kept once).

The `$patch`/`$setElementOrder`/`$retainKeys` directives and malformed patches are in
test_patch_strategic_directives.py, to keep each module to one concern.
"""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from localkube.apimachinery.patch import json_merge_patch, schema_for, strategic_merge
from tests.localkube.patch_fixtures import container, json_scalars, zk_statefulset


def _strip_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def test_containers_merge_by_name() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "kubernetes-zookeeper", "image": "zk:2"}]}
            }
        }
    }
    out = strategic_merge(zk_statefulset(), patch)
    c = container(out)
    assert c["image"] == "zk:2"
    assert c["command"] == ["sh", "-c", "start-zookeeper --servers=3"]
    assert len(out["spec"]["template"]["spec"]["containers"]) == 1


def test_new_container_is_ordered_like_the_apiserver() -> None:
    pod = {
        "kind": "Pod",
        "spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]},
    }
    out = strategic_merge(pod, {"spec": {"containers": [{"name": "c", "image": "2"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["c", "a", "b"]
    out = strategic_merge(
        pod, {"spec": {"containers": [{"name": "b", "image": "3"}, {"name": "c", "image": "2"}]}}
    )
    assert [c["name"] for c in out["spec"]["containers"]] == ["a", "b", "c"]


def test_nested_lists_merge_by_their_keys() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "kubernetes-zookeeper",
                            "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                            "ports": [{"containerPort": 3888, "name": "leader-election"}],
                            "volumeMounts": [{"name": "datadir", "mountPath": "/data"}],
                            "command": ["sleep"],
                        }
                    ],
                    "tolerations": [{"key": "b", "operator": "Exists"}],
                }
            }
        }
    }
    out = strategic_merge(zk_statefulset(), patch)
    c = container(out)
    assert {e["name"]: e["value"] for e in c["env"]} == {"A": "1", "B": "20", "C": "3"}
    assert [p["containerPort"] for p in c["ports"]] == [3888, 2181, 2888]
    assert sorted(m["mountPath"] for m in c["volumeMounts"]) == ["/data", "/var/lib/zk"]
    assert c["command"] == ["sleep"]  # keyless lists are replaced
    assert out["spec"]["template"]["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_service_ports_merge_by_port() -> None:
    svc = {
        "kind": "Service",
        "spec": {"ports": [{"port": 2888, "name": "server"}, {"port": 3888, "name": "le"}]},
    }
    out = strategic_merge(svc, {"spec": {"ports": [{"port": 3888, "name": "leader-election"}]}})
    assert out["spec"]["ports"] == [
        {"port": 2888, "name": "server"},
        {"port": 3888, "name": "leader-election"},
    ]


def test_adoption_patch_merges_owner_references_by_uid() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {"name": "zk-0", "uid": "p1", "ownerReferences": [{"uid": "o1", "name": "x"}]},
    }
    ref = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "zk",
        "uid": "s1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    out = strategic_merge(pod, {"metadata": {"ownerReferences": [ref], "uid": "p1"}}, "pods")
    assert [r["uid"] for r in out["metadata"]["ownerReferences"]] == ["s1", "o1"]
    released = strategic_merge(
        out, {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "s1"}], "uid": "p1"}}
    )
    assert released["metadata"]["ownerReferences"] == [{"uid": "o1", "name": "x"}]


def test_finalizers_are_a_set_merge() -> None:
    obj = {"kind": "ConfigMap", "metadata": {"finalizers": ["a", "b"]}}
    assert strategic_merge(obj, {"metadata": {"finalizers": ["b", "c"]}})["metadata"][
        "finalizers"
    ] == ["a", "b", "c"]
    out = strategic_merge(obj, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert out["metadata"]["finalizers"] == ["b"]


def test_primitive_merge_order_matches_go() -> None:
    node = {"kind": "Node", "spec": {"podCIDRs": ["1", "2", "3"]}}
    out = strategic_merge(node, {"spec": {"podCIDRs": ["3", "1"]}})
    assert out["spec"]["podCIDRs"] == ["2", "3", "1"]
    out = strategic_merge(node, {"spec": {"podCIDRs": ["3", "1", "2"]}})
    assert out["spec"]["podCIDRs"] == ["3", "1", "2"]
    out = strategic_merge(
        {"kind": "Node", "spec": {"podCIDRs": ["1", "2"]}}, {"spec": {"podCIDRs": ["2", "3"]}}
    )
    assert out["spec"]["podCIDRs"] == ["1", "2", "3"]


def test_merge_list_preserves_patch_order() -> None:
    pod = {
        "kind": "Pod",
        "spec": {"containers": [{"name": "1"}, {"name": "2", "v": "b"}, {"name": "3"}]},
    }
    out = strategic_merge(
        pod,
        {
            "spec": {
                "containers": [
                    {"name": "3", "v": "c"},
                    {"name": "1", "v": "a"},
                    {"name": "2", "o": "x"},
                ]
            }
        },
    )
    assert out["spec"]["containers"] == [
        {"name": "3", "v": "c"},
        {"name": "1", "v": "a"},
        {"name": "2", "v": "b", "o": "x"},
    ]
    out = strategic_merge(
        pod, {"spec": {"containers": [{"name": "3", "v": "c"}, {"name": "1", "v": "a"}]}}
    )
    assert [c["name"] for c in out["spec"]["containers"]] == ["2", "3", "1"]


def test_cordon_and_uncordon() -> None:
    node = {"kind": "Node", "metadata": {"name": "n1"}, "spec": {"podCIDR": "10.0.0.0/24"}}
    cordoned = strategic_merge(node, {"spec": {"unschedulable": True}})
    assert cordoned["spec"] == {"podCIDR": "10.0.0.0/24", "unschedulable": True}
    uncordoned = strategic_merge(cordoned, {"spec": {"unschedulable": None}})
    assert uncordoned["spec"] == {"podCIDR": "10.0.0.0/24"}


def test_rollout_undo_replaces_the_whole_template() -> None:
    sts = zk_statefulset()
    sts["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "t"}
    old_template = {
        "metadata": {"labels": {"app": "zk"}},
        "spec": {"containers": [{"name": "other", "image": "zk:0"}]},
    }
    out = strategic_merge(sts, {"spec": {"template": {**old_template, "$patch": "replace"}}})
    assert out["spec"]["template"] == old_template
    assert out["spec"]["replicas"] == 3


def test_rollout_restart_annotation() -> None:
    patch = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}
                }
            }
        }
    }
    out = strategic_merge(zk_statefulset(), patch)
    assert out["spec"]["template"]["metadata"] == {
        "labels": {"app": "zk"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"},
    }


def test_pod_conditions_merge_by_type() -> None:
    pod = {
        "kind": "Pod",
        "status": {
            "conditions": [
                {"type": "Ready", "status": "False"},
                {"type": "PodScheduled", "status": "True"},
            ]
        },
    }
    out = strategic_merge(pod, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert out["status"]["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "PodScheduled", "status": "True"},
    ]


def test_pdb_selector_is_replaced() -> None:
    pdb = {
        "kind": "PodDisruptionBudget",
        "spec": {"selector": {"matchLabels": {"app": "zk"}}, "maxUnavailable": 1},
    }
    out = strategic_merge(pdb, {"spec": {"selector": {"matchLabels": {"tier": "db"}}}})
    assert out["spec"]["selector"] == {"matchLabels": {"tier": "db"}}
    merged = strategic_merge(
        {**pdb, "kind": "Other"}, {"spec": {"selector": {"matchLabels": {"tier": "db"}}}}
    )
    assert merged["spec"]["selector"]["matchLabels"] == {"app": "zk", "tier": "db"}


def test_new_items_lose_their_nulls() -> None:
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "a"}]}}
    out = strategic_merge(
        pod,
        {
            "spec": {"containers": [{"name": "b", "image": None}]},
            "metadata": {"labels": {"x": None, "y": "1"}},
        },
    )
    assert {"name": "b"} in out["spec"]["containers"]
    assert out["metadata"] == {"labels": {"y": "1"}}


def test_smp_does_not_mutate_inputs() -> None:
    sts, patch = (
        zk_statefulset(),
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "kubernetes-zookeeper", "env": [{"name": "A", "value": None}]}
                        ]
                    }
                }
            }
        },
    )
    before = copy.deepcopy(patch)
    out = strategic_merge(sts, patch)
    assert sts == zk_statefulset() and patch == before
    container(out)["env"].append({"name": "Z"})
    assert len(container(sts)["env"]) == 2


def test_schema_resolution() -> None:
    assert schema_for("StatefulSet") == "StatefulSet"
    assert schema_for("statefulsets.apps") == "StatefulSet"
    assert schema_for("replicasets") == "Deployment"
    assert schema_for("pods") == "Pod"
    assert schema_for("ConfigMap") == "Object"
    assert schema_for(None) == "Object"
    assert schema_for("widgets.example.com") == "Object"


_plain_keys = st.text(alphabet="abcxyz", min_size=1, max_size=3)
_plain_json = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_plain_keys, children, max_size=3)
    ),
    max_leaves=12,
)
_plain_docs = st.dictionaries(_plain_keys, _plain_json, max_size=4)


@given(_plain_docs, _plain_docs)
def test_smp_without_strategies_equals_merge_patch(doc: dict, patch: dict) -> None:
    smp = strategic_merge(doc, patch, "ConfigMap")
    assert _strip_nulls(smp) == _strip_nulls(json_merge_patch(doc, patch))


@given(_plain_docs)
def test_smp_with_itself_is_identity_up_to_nulls(doc: dict) -> None:
    assert _strip_nulls(strategic_merge(doc, doc, "ConfigMap")) == _strip_nulls(doc)
    assert strategic_merge(doc, {}, "ConfigMap") == doc


_names = st.sampled_from(["a", "b", "c", "d"])
_containers = st.lists(
    st.fixed_dictionaries({"name": _names, "image": st.sampled_from(["x", "y"])}),
    max_size=4,
    unique_by=lambda c: c["name"],
)


@given(_containers, _containers)
def test_container_merge_keeps_every_name_once(live: list, patch: list) -> None:
    out = strategic_merge(
        {"kind": "Pod", "spec": {"containers": live}}, {"spec": {"containers": patch}}
    )
    names = [c["name"] for c in out["spec"]["containers"]]
    assert sorted(names) == sorted({c["name"] for c in live + patch})
    images = {c["name"]: c["image"] for c in out["spec"]["containers"]}
    for c in patch:
        assert images[c["name"]] == c["image"]
    # patch items keep their relative order
    assert [n for n in names if n in {c["name"] for c in patch}] == [c["name"] for c in patch]
