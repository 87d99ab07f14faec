"""Kubernetes ``Status`` errors.

Every failure the API server reports travels as a ``metav1.Status`` object, and clients key
their behaviour off ``code`` and ``reason`` (kubectl prints ``Error from server (NotFound): …``,
client-go retries on ``Conflict``, drain retries on ``TooManyRequests``).  ``ApiError`` carries
exactly those fields; the constructors below reproduce the messages of apimachinery's
``api/errors`` package so that what a client prints matches a real cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ApiError",
    "already_exists",
    "bad_request",
    "cause",
    "conflict",
    "field_duplicate",
    "field_forbidden",
    "field_invalid",
    "field_not_supported",
    "field_required",
    "forbidden",
    "gone",
    "group_kind_string",
    "internal",
    "invalid",
    "method_not_supported",
    "not_acceptable",
    "not_found",
    "split_resource_group",
    "success_status",
    "too_many_requests",
    "unauthorized",
    "unknown",
    "unsupported_media_type",
]


class ApiError(Exception):
    """A failure that the API server reports as a Kubernetes Status object."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict | None = None,
        causes: list[dict] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details: dict = dict(details or {})
        self.causes: list[dict] = [dict(c) for c in (causes or [])]
        self.retry_after = retry_after

    def status(self) -> dict:
        """The ``Status`` body, with empty fields omitted as Go's ``omitempty`` does."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        details = {k: v for k, v in self.details.items() if v not in (None, "")}
        if self.causes:
            details["causes"] = [_clean_cause(c) for c in self.causes]
        if self.retry_after:
            details["retryAfterSeconds"] = int(self.retry_after)
        if details:
            body["details"] = details
        body["code"] = self.code
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def _clean_cause(c: Mapping[str, Any]) -> dict:
    """A ``StatusCause`` keeps only non-empty ``reason``/``message``/``field`` (``Type`` is
    serialised as ``reason``)."""
    out: dict[str, Any] = {}
    reason = c.get("reason", c.get("type"))
    if reason:
        out["reason"] = reason
    if c.get("message"):
        out["message"] = c["message"]
    if c.get("field"):
        out["field"] = c["field"]
    return out


# --------------------------------------------------------------------------- helpers


def split_resource_group(resource_group: str) -> tuple[str, str]:
    """``"statefulsets.apps"`` → ``("statefulsets", "apps")``; ``"pods"`` → ``("pods", "")``."""
    resource, _, group = resource_group.partition(".")
    return resource, group


def group_kind_string(kind: str, group: str) -> str:
    """``GroupKind.String()``: ``StatefulSet.apps``, or just ``Pod`` for the core group."""
    return f"{kind}.{group}" if group else kind


def _go_quote(value: str) -> str:
    """Close enough to Go's ``%q`` for the ASCII strings that appear in field errors."""
    return json.dumps(value, ensure_ascii=False)


def _render_value(value: Any) -> str:
    """How ``field.Error.ErrorBody`` renders a bad value: ``%q`` for strings, ``%v`` for
    numbers and booleans, JSON for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, int | float):
        return str(value)
    try:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def cause(reason: str, message: str, field: str = "") -> dict:
    """A raw ``StatusCause``."""
    return {"reason": reason, "message": message, "field": field}


def field_invalid(field: str, value: Any, detail: str = "") -> dict:
    """``field.Invalid``: ``Invalid value: "x": <detail>``."""
    msg = f"Invalid value: {_render_value(value)}"
    if detail:
        msg += f": {detail}"
    return cause("FieldValueInvalid", msg, field)


def field_required(field: str, detail: str = "") -> dict:
    """``field.Required``: ``Required value[: detail]``."""
    msg = "Required value" + (f": {detail}" if detail else "")
    return cause("FieldValueRequired", msg, field)


def field_forbidden(field: str, detail: str = "") -> dict:
    """``field.Forbidden``: ``Forbidden[: detail]``."""
    msg = "Forbidden" + (f": {detail}" if detail else "")
    return cause("FieldValueForbidden", msg, field)


def field_duplicate(field: str, value: Any) -> dict:
    """``field.Duplicate``: ``Duplicate value: "x"``."""
    return cause("FieldValueDuplicate", f"Duplicate value: {_render_value(value)}", field)


def field_not_supported(field: str, value: Any, valid: Iterable[str] = ()) -> dict:
    """``field.NotSupported``: ``Unsupported value: "x": supported values: "a", "b"``."""
    msg = f"Unsupported value: {_render_value(value)}"
    valid = list(valid)
    if valid:
        msg += ": supported values: " + ", ".join(_go_quote(v) for v in valid)
    return cause("FieldValueNotSupported", msg, field)


def _aggregate(messages: list[str]) -> str:
    """``utilerrors.Aggregate.Error()``: de-duplicated, bracketed when more than one."""
    seen: list[str] = []
    for m in messages:
        if m not in seen:
            seen.append(m)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


def _qualified_details(resource_group: str, name: str | None) -> dict:
    resource, group = split_resource_group(resource_group)
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if resource:
        details["kind"] = resource
    return details


# ----------------------------------------------------------------------- constructors


def bad_request(msg: str) -> ApiError:
    """400 BadRequest (malformed selectors, bodies, parameters)."""
    return ApiError(400, "BadRequest", msg)


def not_found(resource_group: str, name: str) -> ApiError:
    """404 NotFound: ``statefulsets.apps "zk" not found``."""
    return ApiError(
        404,
        "NotFound",
        f"{resource_group} {_go_quote(name)} not found",
        details=_qualified_details(resource_group, name),
    )


def already_exists(resource_group: str, name: str) -> ApiError:
    """409 AlreadyExists: ``pods "zk-0" already exists``."""
    return ApiError(
        409,
        "AlreadyExists",
        f"{resource_group} {_go_quote(name)} already exists",
        details=_qualified_details(resource_group, name),
    )


def conflict(resource_group: str, name: str, msg: str) -> ApiError:
    """409 Conflict: ``Operation cannot be fulfilled on pods "zk-0": <msg>``."""
    return ApiError(
        409,
        "Conflict",
        f"Operation cannot be fulfilled on {resource_group} {_go_quote(name)}: {msg}",
        details=_qualified_details(resource_group, name),
    )


def invalid(kind: str, group: str, name: str, causes: list[dict]) -> ApiError:
    """422 Invalid: ``StatefulSet.apps "zk" is invalid: spec.x: Invalid value: ...``.

    ``causes`` are ``{"reason", "message", "field"}`` dicts, normally built with the
    ``field_*`` helpers; the message joins ``field: message`` like ``errs.ToAggregate()``.
    """
    gk = group_kind_string(kind, group)
    parts = [f"{c.get('field') or '<nil>'}: {c.get('message', '')}" for c in causes]
    message = f"{gk} {_go_quote(name)} is invalid"
    if parts:
        message += ": " + _aggregate(parts)
    details: dict[str, Any] = {"name": name, "group": group, "kind": kind}
    return ApiError(422, "Invalid", message, details=details, causes=list(causes))


def method_not_supported(resource_group: str, action: str) -> ApiError:
    """405 MethodNotAllowed: ``<action> is not supported on resources of kind "<gr>"``."""
    return ApiError(
        405,
        "MethodNotAllowed",
        f"{action} is not supported on resources of kind {_go_quote(resource_group)}",
        details=_qualified_details(resource_group, None),
    )


def unauthorized(msg: str = "Unauthorized") -> ApiError:
    """401 Unauthorized (bad or missing bearer token)."""
    return ApiError(401, "Unauthorized", msg or "not authorized")


def forbidden(resource_group: str, name: str, msg: str) -> ApiError:
    """403 Forbidden: ``pods "x" is forbidden: <msg>``."""
    if not resource_group:
        message = f"forbidden: {msg}"
    elif not name:
        message = f"{resource_group} is forbidden: {msg}"
    else:
        message = f"{resource_group} {_go_quote(name)} is forbidden: {msg}"
    return ApiError(403, "Forbidden", message, details=_qualified_details(resource_group, name))


def too_many_requests(
    msg: str, causes: list[dict] | None = None, retry_after: int | None = None
) -> ApiError:
    """429 TooManyRequests (eviction blocked by a disruption budget).

    Keep ``retry_after`` unset/0 for PDB refusals: client-go silently retries whenever
    ``retryAfterSeconds`` is positive.
    """
    return ApiError(429, "TooManyRequests", msg, causes=causes, retry_after=retry_after)


def gone(msg: str) -> ApiError:
    """410 Expired (watch or list from a resourceVersion that is too old)."""
    return ApiError(410, "Expired", msg)


def internal(msg: str) -> ApiError:
    """500 InternalError: ``Internal error occurred: <msg>``."""
    return ApiError(
        500, "InternalError", f"Internal error occurred: {msg}", causes=[{"message": msg}]
    )


def unknown(msg: str, code: int = 500) -> ApiError:
    """A plain Go error that reached the handler: status with an empty reason."""
    return ApiError(code, "", msg)


def unsupported_media_type(accepted: Iterable[str] | str) -> ApiError:
    """415 UnsupportedMediaType, listing the content types the endpoint accepts."""
    if isinstance(accepted, str):
        accepted = [accepted]
    msg = "the body of the request was in an unknown format - accepted media types include: "
    return ApiError(415, "UnsupportedMediaType", msg + ", ".join(accepted))


def not_acceptable(msg: str) -> ApiError:
    """406 NotAcceptable (e.g. a Table requested for a resource that cannot be printed)."""
    return ApiError(406, "NotAcceptable", msg)


def success_status(code: int | None = 200, details: dict | None = None) -> dict:
    """A ``Status`` with ``status: Success`` (DELETE of most kinds, eviction's 201);
    ``code=None`` leaves the code out."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
    }
    if details:
        body["details"] = dict(details)
    if code is not None:
        body["code"] = code
    return body
