"""Status errors: codes, reasons and messages as apimachinery's api/errors builds them."""

from __future__ import annotations

import json

import pytest

from localkube.apimachinery import errors as E


def test_not_found_status_body() -> None:
    err = E.not_found("statefulsets.apps", "zk")
    assert str(err) == 'statefulsets.apps "zk" not found'
    assert err.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'statefulsets.apps "zk" not found',
        "reason": "NotFound",
        "details": {"name": "zk", "group": "apps", "kind": "statefulsets"},
        "code": 404,
    }
    core = E.not_found("pods", "zk-0").status()
    assert core["details"] == {"name": "zk-0", "kind": "pods"}
    json.dumps(core)  # serialisable


def test_conflict_and_already_exists() -> None:
    err = E.conflict(
        "pods",
        "zk-0",
        "the object has been modified; please apply your changes to the latest version and try"
        " again",
    )
    assert err.code == 409 and err.reason == "Conflict"
    assert err.message.startswith('Operation cannot be fulfilled on pods "zk-0": the object')
    exists = E.already_exists("services", "zk-hs")
    assert (exists.code, exists.reason, exists.message) == (
        409,
        "AlreadyExists",
        'services "zk-hs" already exists',
    )


def test_invalid_joins_causes_like_the_apiserver() -> None:
    one = E.invalid(
        "StatefulSet", "apps", "zk", [E.field_invalid("spec.selector", {"a": 1}, "bad")]
    )
    assert one.code == 422 and one.reason == "Invalid"
    assert (
        one.message
        == 'StatefulSet.apps "zk" is invalid: spec.selector: Invalid value: {"a":1}: bad'
    )
    body = one.status()
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: {"a":1}: bad',
            "field": "spec.selector",
        }
    ]
    assert body["details"]["kind"] == "StatefulSet" and body["details"]["group"] == "apps"
    two = E.invalid(
        "Pod",
        "",
        "p",
        [
            E.field_required("spec.containers"),
            E.field_forbidden("spec", "updates are forbidden"),
            E.field_required("spec.containers"),
        ],
    )
    assert two.message == (
        'Pod "p" is invalid: [spec.containers: Required value, spec: Forbidden: updates are'
        " forbidden]"
    )
    assert "group" not in two.status()["details"]
    assert E.invalid("Pod", "", "p", []).message == 'Pod "p" is invalid'


def test_field_helpers_render_values_like_go() -> None:
    assert E.field_invalid("a", "x")["message"] == 'Invalid value: "x"'
    assert E.field_invalid("a", 3, "d")["message"] == "Invalid value: 3: d"
    assert E.field_invalid("a", True)["message"] == "Invalid value: true"
    assert E.field_duplicate("a", "x")["message"] == 'Duplicate value: "x"'
    nsup = E.field_not_supported("spec.type", "X", ["A", "B"])
    assert nsup["message"] == 'Unsupported value: "X": supported values: "A", "B"'
    assert nsup["reason"] == "FieldValueNotSupported"


@pytest.mark.parametrize(
    ("err", "code", "reason"),
    [
        (E.bad_request("x"), 400, "BadRequest"),
        (E.unauthorized(), 401, "Unauthorized"),
        (E.forbidden("pods", "p", "no"), 403, "Forbidden"),
        (E.method_not_supported("pods", "watch"), 405, "MethodNotAllowed"),
        (E.not_acceptable("x"), 406, "NotAcceptable"),
        (E.gone("too old resource version: 1 (5)"), 410, "Expired"),
        (E.unsupported_media_type("application/json"), 415, "UnsupportedMediaType"),
        (E.too_many_requests("slow down"), 429, "TooManyRequests"),
        (E.internal("boom"), 500, "InternalError"),
    ],
)
def test_codes_and_reasons(err: E.ApiError, code: int, reason: str) -> None:
    assert (err.code, err.reason) == (code, reason)
    assert err.status()["code"] == code and err.status()["reason"] == reason


def test_messages() -> None:
    assert E.unauthorized().message == "Unauthorized"
    assert E.forbidden("pods", "p", "no").message == 'pods "p" is forbidden: no'
    assert E.forbidden("pods", "", "no").message == "pods is forbidden: no"
    assert E.forbidden("", "", "no").message == "forbidden: no"
    assert (
        E.method_not_supported("pods", "watch").message
        == 'watch is not supported on resources of kind "pods"'
    )
    assert E.internal("boom").message == "Internal error occurred: boom"
    assert E.internal("boom").status()["details"] == {"causes": [{"message": "boom"}]}
    assert E.unsupported_media_type(["a", "b"]).message.endswith("include: a, b")


def test_eviction_429_body() -> None:
    err = E.too_many_requests(
        "Cannot evict pod as it would violate the pod's disruption budget.",
        [
            E.cause(
                "DisruptionBudget",
                "The disruption budget zk-pdb needs 2 healthy pods and has 2 currently",
            )
        ],
    )
    body = err.status()
    assert body["details"] == {
        "causes": [
            {
                "reason": "DisruptionBudget",
                "message": "The disruption budget zk-pdb needs 2 healthy pods and has 2 currently",
            }
        ]
    }
    assert "retryAfterSeconds" not in body["details"]
    stale = E.too_many_requests("x", retry_after=10)
    assert stale.status()["details"] == {"retryAfterSeconds": 10}
    assert stale.retry_after == 10


def test_unknown_has_no_reason_and_success_status() -> None:
    body = E.unknown("map: map[] does not contain declared merge key: name").status()
    assert "reason" not in body and body["code"] == 500
    assert E.success_status(201) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    assert "code" not in E.success_status(None, {"name": "zk"})
    assert E.split_resource_group("statefulsets.apps") == ("statefulsets", "apps")
    assert E.group_kind_string("Pod", "") == "Pod"
    assert repr(E.bad_request("x")) == "ApiError(400, 'BadRequest', 'x')"
