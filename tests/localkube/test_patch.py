"""JSON patch, merge patch, strategic merge patch, simplified apply, and content-type dispatch."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.patch import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    apply_patch,
    json_merge_patch,
    json_patch,
    patch_object,
    schema_for,
    strategic_merge,
)

REJECTED = "the server rejected our request due to an error in our request"


def zk_statefulset() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "zk", "namespace": "default", "labels": {"app": "zk"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "zk"}},
            "template": {
                "metadata": {"labels": {"app": "zk"}},
                "spec": {
                    "containers": [
                        {
                            "name": "kubernetes-zookeeper",
                            "image": "zk:1",
                            "command": ["sh", "-c", "start-zookeeper --servers=3"],
                            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
                            "ports": [
                                {"containerPort": 2181, "name": "client"},
                                {"containerPort": 2888, "name": "server"},
                            ],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "volumeMounts": [{"name": "datadir", "mountPath": "/var/lib/zk"}],
                        }
                    ],
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                    "volumes": [{"name": "cache", "emptyDir": {}}],
                },
            },
        },
    }


# ======================================================================== JSON patch


def test_tutorial_cpu_json_patch() -> None:
    sts = zk_statefulset()
    ops = [
        {
            "op": "replace",
            "path": "/spec/template/spec/containers/0/resources/requests/cpu",
            "value": "0.3",
        }
    ]
    out = json_patch(sts, ops)
    assert out["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "0.3"
    assert sts == zk_statefulset()  # input untouched


def test_json_patch_operations() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    assert json_patch(doc, [{"op": "add", "path": "/a/-", "value": 3}])["a"] == [1, 2, 3]
    assert json_patch(doc, [{"op": "add", "path": "/a/0", "value": 0}])["a"] == [0, 1, 2]
    assert json_patch(doc, [{"op": "add", "path": "/a/2", "value": 9}])["a"] == [1, 2, 9]
    assert json_patch(doc, [{"op": "add", "path": "/a/-1", "value": 9}])["a"] == [1, 2, 9]
    assert json_patch(doc, [{"op": "remove", "path": "/a/0"}])["a"] == [2]
    assert json_patch(doc, [{"op": "remove", "path": "/b/c"}])["b"] == {}
    assert json_patch(doc, [{"op": "replace", "path": "/b/c", "value": None}])["b"] == {"c": None}
    # evanphx/json-patch v4 (used by the apiserver) lets replace create a missing member
    assert json_patch(doc, [{"op": "replace", "path": "/b/d", "value": 2}])["b"] == {"c": 1, "d": 2}
    moved = json_patch(doc, [{"op": "move", "from": "/b/c", "path": "/d"}])
    assert moved == {"a": [1, 2], "b": {}, "d": 1}
    copied = json_patch(doc, [{"op": "copy", "from": "/a", "path": "/b/a"}])
    assert copied["b"]["a"] == [1, 2] and copied["b"]["a"] is not copied["a"]
    assert json_patch(doc, [{"op": "test", "path": "/b/c", "value": 1}]) == doc
    assert json_patch(doc, [{"op": "test", "path": "/b/x", "value": None}]) == doc
    assert json_patch(doc, [{"op": "replace", "path": "", "value": {"z": 1}}]) == {"z": 1}
    assert json_patch(doc, []) == doc
    assert json_patch(doc, json.dumps([{"op": "add", "path": "/e", "value": 1}]))["e"] == 1


def test_json_pointer_escapes() -> None:
    doc = {"metadata": {"annotations": {"example.com/x": "1", "a~b": "2"}}}
    out = json_patch(
        doc,
        [
            {"op": "remove", "path": "/metadata/annotations/example.com~1x"},
            {"op": "replace", "path": "/metadata/annotations/a~0b", "value": "3"},
        ],
    )
    assert out == {"metadata": {"annotations": {"a~b": "3"}}}


@pytest.mark.parametrize(
    "op",
    [
        {"op": "remove", "path": "/missing"},
        {"op": "remove", "path": "/a/5"},
        {"op": "add", "path": "/a/5", "value": 1},
        {"op": "add", "path": "/x/y", "value": 1},
        {"op": "replace", "path": "/a/9", "value": 1},
        {"op": "replace", "path": "/a/x", "value": 1},
        {"op": "test", "path": "/b/c", "value": 2},
        {"op": "test", "path": "/b/c", "value": True},
        {"op": "move", "from": "/nope", "path": "/x"},
        {"op": "move", "from": "/b", "path": "/b/c/d"},
        {"op": "copy", "from": "/nope", "path": "/x"},
        {"op": "frobnicate", "path": "/a"},
        {"path": "/a"},
        {"op": "add", "path": "/q"},
        {"op": "add", "path": "no-slash", "value": 1},
    ],
)
def test_json_patch_failures_are_generic_422(op: dict) -> None:
    with pytest.raises(ApiError) as info:
        json_patch({"a": [1, 2], "b": {"c": 1}}, [op])
    assert info.value.code == 422
    assert info.value.reason == "Invalid"
    assert info.value.message == REJECTED


@pytest.mark.parametrize("body", [{"op": "add"}, "not json", ["not an object"], 3])
def test_json_patch_undecodable_is_400(body: object) -> None:
    with pytest.raises(ApiError) as info:
        json_patch({}, body)
    assert info.value.code == 400


_keys = st.text(alphabet="abc/~", min_size=1, max_size=4)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4))
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_keys, children, max_size=3)
    ),
    max_leaves=12,
)
_docs = st.dictionaries(_keys, _json, max_size=4)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@given(_docs, _keys, _json)
def test_json_patch_add_then_remove_round_trips(doc: dict, key: str, value: object) -> None:
    key = "z" + key  # "z" is outside the generated alphabet, so the member is new
    path = "/" + _escape(key)
    added = json_patch(doc, [{"op": "add", "path": path, "value": value}])
    assert json_patch(added, [{"op": "test", "path": path, "value": value}]) == added
    assert json_patch(added, [{"op": "remove", "path": path}]) == doc


@given(st.dictionaries(_keys, _json, min_size=1, max_size=4), _keys, st.data())
def test_json_patch_move_and_back(doc: dict, dst: str, data: st.DataObject) -> None:
    src = data.draw(st.sampled_from(sorted(doc)))
    dst = "z" + dst
    there = json_patch(
        doc, [{"op": "move", "from": "/" + _escape(src), "path": "/" + _escape(dst)}]
    )
    assert dst in there and src not in there
    back = json_patch(
        there, [{"op": "move", "from": "/" + _escape(dst), "path": "/" + _escape(src)}]
    )
    assert back == doc


# ======================================================================= merge patch


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # RFC 7386 appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_rfc7386_examples(target: object, patch: object, result: object) -> None:
    assert json_merge_patch(target, patch) == result


def test_scale_merge_patch() -> None:
    sts = zk_statefulset()
    out = json_merge_patch(sts, {"spec": {"replicas": 5}})
    assert out["spec"]["replicas"] == 5
    assert out["spec"]["template"] == sts["spec"]["template"]


def _strip_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _strip_dict_nulls(value: object) -> object:
    """Merge patch drops null members of (nested) objects but copies arrays verbatim."""
    if isinstance(value, dict):
        return {k: _strip_dict_nulls(v) for k, v in value.items() if v is not None}
    return value


@given(_docs)
def test_merge_patch_with_itself_is_identity_up_to_nulls(doc: dict) -> None:
    assert json_merge_patch(doc, doc) == _strip_dict_nulls(doc)


@given(_docs, _docs)
def test_merge_patch_is_idempotent(doc: dict, patch: dict) -> None:
    once = json_merge_patch(doc, patch)
    assert json_merge_patch(once, patch) == once


@given(_docs, _docs)
def test_merge_patch_does_not_mutate(doc: dict, patch: dict) -> None:
    before, pbefore = copy.deepcopy(doc), copy.deepcopy(patch)
    json_merge_patch(doc, patch)
    assert doc == before and patch == pbefore


# ============================================================ strategic merge patch


def _container(obj: dict, i: int = 0) -> dict:
    return obj["spec"]["template"]["spec"]["containers"][i]


def test_containers_merge_by_name() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "kubernetes-zookeeper", "image": "zk:2"}]}
            }
        }
    }
    out = strategic_merge(zk_statefulset(), patch)
    c = _container(out)
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
    c = _container(out)
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


def test_map_directives() -> None:
    obj = {"kind": "ConfigMap", "data": {"a": "1", "b": "2"}, "metadata": {"name": "x"}}
    assert strategic_merge(obj, {"data": {"$patch": "delete"}})["data"] == {}
    assert strategic_merge(obj, {"data": {"$patch": "replace", "c": "3"}})["data"] == {"c": "3"}
    assert strategic_merge(obj, {"data": {"$patch": "merge", "c": "3"}})["data"] == {
        "a": "1",
        "b": "2",
        "c": "3",
    }
    assert strategic_merge(obj, {"$patch": "replace", "kind": "ConfigMap"}) == {"kind": "ConfigMap"}
    # Like the apiserver, a directive-carrying map for an absent field is dropped.
    assert "extra" not in strategic_merge(obj, {"extra": {"$patch": "replace", "a": 1}})


def test_list_directives() -> None:
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "a"}]}}
    out = strategic_merge(pod, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}})
    assert out["spec"]["containers"] == [{"name": "b"}]
    out = strategic_merge(pod, {"spec": {"containers": [{"$patch": "replace"}]}})
    assert out["spec"]["containers"] == []
    out = strategic_merge(pod, {"spec": {"containers": [{"name": "z"}, {"$patch": "replace"}]}})
    assert out["spec"]["containers"] == [{"name": "z"}]


def test_set_element_order() -> None:
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "1"}, {"name": "3"}]}}
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "3"}, {"name": "2"}, {"name": "1"}],
            "containers": [{"name": "3", "v": 3}, {"name": "1", "v": 1}],
        }
    }
    out = strategic_merge(pod, patch)
    assert out["spec"]["containers"] == [{"name": "3", "v": 3}, {"name": "1", "v": 1}]
    obj = {"kind": "ConfigMap", "metadata": {"finalizers": ["1", "3"]}}
    out = strategic_merge(obj, {"metadata": {"$setElementOrder/finalizers": ["3", "2", "1"]}})
    assert out["metadata"]["finalizers"] == ["3", "1"]


def test_retain_keys_switches_volume_source() -> None:
    sts = zk_statefulset()
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "volumes": [
                        {
                            "name": "cache",
                            "hostPath": {"path": "/tmp"},
                            "$retainKeys": ["hostPath", "name"],
                        }
                    ]
                }
            }
        }
    }
    out = strategic_merge(sts, patch)
    assert out["spec"]["template"]["spec"]["volumes"] == [
        {"name": "cache", "hostPath": {"path": "/tmp"}}
    ]
    with pytest.raises(ApiError) as info:
        strategic_merge(
            sts,
            {
                "spec": {
                    "template": {
                        "spec": {
                            "volumes": [{"name": "cache", "hostPath": {}, "$retainKeys": ["name"]}]
                        }
                    }
                }
            },
        )
    assert info.value.code == 400
    assert info.value.message == "invalid patch format of retainKeys"


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


@pytest.mark.parametrize(
    ("patch", "code", "fragment"),
    [
        (
            {"spec": {"containers": [{"image": "x"}]}},
            500,
            "does not contain declared merge key: name",
        ),
        ({"spec": {"containers": [{"$patch": "merge"}]}}, 500, "merging lists cannot yet be"),
        ({"spec": {"containers": [{"name": "a", "$patch": "explode"}]}}, 500, "unknown patch type"),
        ({"spec": {"$patch": "explode"}}, 500, "unknown patch type: explode in map"),
        ({"spec": {"containers": [["a"]]}}, 500, "list element types are not identical"),
        ({"spec": {"$setElementOrder/containers": "x"}}, 400, "setElementOrder"),
        ({"spec": {"containers": [{"name": "a"}, "b"]}}, 500, "list element types are not"),
    ],
)
def test_smp_errors(patch: dict, code: int, fragment: str) -> None:
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "a"}]}}
    with pytest.raises(ApiError) as info:
        strategic_merge(pod, patch)
    assert info.value.code == code
    assert fragment in info.value.message


def test_smp_lists_of_lists_are_422() -> None:
    with pytest.raises(ApiError) as info:
        strategic_merge(
            {"kind": "Pod", "spec": {"containers": []}}, {"spec": {"containers": [["a"]]}}
        )
    assert info.value.code == 422 and info.value.message == REJECTED


def test_smp_rejects_non_objects() -> None:
    with pytest.raises(ApiError) as info:
        strategic_merge({}, ["not", "a", "map"])  # type: ignore[arg-type]
    assert info.value.code == 400 and info.value.message == "invalid JSON document"


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
    _container(out)["env"].append({"name": "Z"})
    assert len(_container(sts)["env"]) == 2


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
    _scalars,
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


# ============================================================================ apply


def test_apply_creates_and_merges() -> None:
    applied = zk_statefulset()
    created = apply_patch(None, applied)
    assert created == applied and created is not applied
    live = copy.deepcopy(created)
    live["status"] = {"replicas": 3}
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/x"
    change = zk_statefulset()
    _container(change)["image"] = "zk:2"
    _container(change)["command"] = ["run"]
    out = apply_patch(live, change)
    c = _container(out)
    assert c["image"] == "zk:2"
    assert c["command"] == ["run"]
    assert c["terminationMessagePath"] == "/dev/x"  # fields the applier does not mention stay
    assert out["status"] == {"replicas": 3}
    extra = apply_patch(
        live, {"metadata": {"finalizers": ["x"], "labels": {"app": None}}}, "statefulsets"
    )
    assert extra["metadata"]["finalizers"] == ["x"]
    assert "app" not in extra["metadata"]["labels"]


def test_apply_merges_keyed_lists() -> None:
    live = {"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "1", "tty": True}]}}
    out = apply_patch(
        live,
        {
            "kind": "Pod",
            "spec": {"containers": [{"name": "a", "image": "2"}, {"name": "b", "image": "3"}]},
        },
    )
    assert out["spec"]["containers"] == [
        {"name": "a", "image": "2", "tty": True},
        {"name": "b", "image": "3"},
    ]
    with pytest.raises(ApiError):
        apply_patch(live, ["x"])  # type: ignore[arg-type]


# ========================================================================== dispatch


def test_patch_object_dispatch() -> None:
    sts = zk_statefulset()
    out = patch_object(sts, "application/merge-patch+json", b'{"spec":{"replicas":1}}')
    assert out["spec"]["replicas"] == 1
    out = patch_object(
        sts,
        "application/json-patch+json; charset=utf-8",
        '[{"op":"replace","path":"/spec/replicas","value":2}]',
    )
    assert out["spec"]["replicas"] == 2
    out = patch_object(sts, STRATEGIC_MERGE_PATCH, {"spec": {"replicas": 4}}, "statefulsets")
    assert out["spec"]["replicas"] == 4
    created = patch_object(None, APPLY_PATCH, "kind: ConfigMap\ndata:\n  a: '1'\n")
    assert created == {"kind": "ConfigMap", "data": {"a": "1"}}
    assert patch_object(sts, MERGE_PATCH, "null") == sts
    assert JSON_PATCH == "application/json-patch+json"


@pytest.mark.parametrize(
    ("ctype", "body", "code"),
    [
        ("application/json", "{}", 415),
        ("text/plain", "{}", 415),
        (STRATEGIC_MERGE_PATCH, "{not json", 400),
        (MERGE_PATCH, "{not json", 400),
        (MERGE_PATCH, "[1]", 400),
        (JSON_PATCH, "{}", 400),
        (JSON_PATCH, '[{"op":"replace","path":"","value":[1]}]', 422),
        (APPLY_PATCH, "a: [", 400),
    ],
)
def test_patch_object_errors(ctype: str, body: str, code: int) -> None:
    with pytest.raises(ApiError) as info:
        patch_object({"kind": "ConfigMap"}, ctype, body)
    assert info.value.code == code


def test_patch_object_needs_an_original_except_for_apply() -> None:
    with pytest.raises(ApiError) as info:
        patch_object(None, MERGE_PATCH, "{}")
    assert info.value.code == 400
    with pytest.raises(ApiError) as unsupported:
        patch_object({}, "application/xml", "<x/>")
    assert "accepted media types include: application/json-patch+json" in unsupported.value.message


def test_client_side_apply_patch_shape() -> None:
    """The three-way patch ``kubectl apply`` sends after an image change."""
    sts = zk_statefulset()
    _container(sts)["volumeMounts"].append({"name": "logs", "mountPath": "/logs"})
    patch = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "kubernetes-zookeeper"}],
                    "containers": [
                        {
                            "name": "kubernetes-zookeeper",
                            "image": "zk:2",
                            "$setElementOrder/volumeMounts": [
                                {"mountPath": "/logs"},
                                {"mountPath": "/var/lib/zk"},
                            ],
                        }
                    ],
                }
            }
        },
    }
    out = strategic_merge(sts, patch, "statefulsets")
    c = _container(out)
    assert c["image"] == "zk:2"
    assert [m["mountPath"] for m in c["volumeMounts"]] == ["/logs", "/var/lib/zk"]
    assert not any(k.startswith("$") for k in c)
    assert out["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": "{}"
    }
