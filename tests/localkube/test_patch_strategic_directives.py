"""Strategic merge patch directives and errors: `$patch` (delete/replace/merge) on maps and
lists, `$setElementOrder`, `$retainKeys`, and the status codes and messages the apiserver gives
for malformed patches.

How plain lists and maps merge is in test_patch_strategic.py, to keep each module to one
concern.
"""

from __future__ import annotations

import pytest

from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.patch import strategic_merge
from tests.localkube.patch_fixtures import REJECTED, zk_statefulset


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
