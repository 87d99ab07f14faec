"""Apply and content-type dispatch: the simplified server-side apply (create or merge),
`patch_object` choosing JSON/merge/strategic/apply by content type with its 400/415/422
errors, and the three-way strategic patch a client-side `kubectl apply` sends.

The patch types themselves have their own modules (test_patch_json.py, test_patch_merge.py,
test_patch_strategic*.py); this one covers choosing between them.
"""

from __future__ import annotations

import copy

import pytest

from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.patch import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    apply_patch,
    patch_object,
    strategic_merge,
)
from tests.localkube.patch_fixtures import container, zk_statefulset


def test_apply_creates_and_merges() -> None:
    applied = zk_statefulset()
    created = apply_patch(None, applied)
    assert created == applied and created is not applied
    live = copy.deepcopy(created)
    live["status"] = {"replicas": 3}
    live["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/x"
    change = zk_statefulset()
    container(change)["image"] = "zk:2"
    container(change)["command"] = ["run"]
    out = apply_patch(live, change)
    c = container(out)
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
    container(sts)["volumeMounts"].append({"name": "logs", "mountPath": "/logs"})
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
    c = container(out)
    assert c["image"] == "zk:2"
    assert [m["mountPath"] for m in c["volumeMounts"]] == ["/logs", "/var/lib/zk"]
    assert not any(k.startswith("$") for k in c)
    assert out["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": "{}"
    }
