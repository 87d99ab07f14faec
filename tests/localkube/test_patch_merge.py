"""JSON merge patch (RFC 7386): the RFC's examples, `kubectl scale`'s patch, and properties
(self-merge is identity up to nulls, idempotence, inputs left untouched).

Each patch type has its own module (test_patch_*.py); shared inputs are in patch_fixtures.py.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given

from localkube.apimachinery.patch import json_merge_patch
from tests.localkube.patch_fixtures import json_docs, zk_statefulset


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


def _strip_dict_nulls(value: object) -> object:
    """Merge patch drops null members of (nested) objects but copies arrays verbatim."""
    if isinstance(value, dict):
        return {k: _strip_dict_nulls(v) for k, v in value.items() if v is not None}
    return value


@given(json_docs)
def test_merge_patch_with_itself_is_identity_up_to_nulls(doc: dict) -> None:
    assert json_merge_patch(doc, doc) == _strip_dict_nulls(doc)


@given(json_docs, json_docs)
def test_merge_patch_is_idempotent(doc: dict, patch: dict) -> None:
    once = json_merge_patch(doc, patch)
    assert json_merge_patch(once, patch) == once


@given(json_docs, json_docs)
def test_merge_patch_does_not_mutate(doc: dict, patch: dict) -> None:
    before, pbefore = copy.deepcopy(doc), copy.deepcopy(patch)
    json_merge_patch(doc, patch)
    assert doc == before and patch == pbefore
