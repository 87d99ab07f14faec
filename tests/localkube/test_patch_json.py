"""JSON patch (RFC 6902) as the apiserver applies it: each operation, JSON-pointer escapes,
the generic 422 for failed operations and 400 for undecodable bodies, and round-trip properties.

Each patch type has its own module (test_patch_*.py); shared inputs are in patch_fixtures.py.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.patch import json_patch
from tests.localkube.patch_fixtures import (
    REJECTED,
    json_docs,
    json_keys,
    json_values,
    zk_statefulset,
)


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


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@given(json_docs, json_keys, json_values)
def test_json_patch_add_then_remove_round_trips(doc: dict, key: str, value: object) -> None:
    key = "z" + key  # "z" is outside the generated alphabet, so the member is new
    path = "/" + _escape(key)
    added = json_patch(doc, [{"op": "add", "path": path, "value": value}])
    assert json_patch(added, [{"op": "test", "path": path, "value": value}]) == added
    assert json_patch(added, [{"op": "remove", "path": path}]) == doc


@given(st.dictionaries(json_keys, json_values, min_size=1, max_size=4), json_keys, st.data())
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
