"""Patch content types and helpers shared by every patch flavour (generic 422, Go ``%v``)."""

from __future__ import annotations

from typing import Any

from localkube.apimachinery.errors import ApiError

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_CONTENT_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)

# The apiserver answers every failed JSON-patch operation with this generic 422.
_REJECTED = "the server rejected our request due to an error in our request"


def _rejected(detail: str) -> ApiError:
    """422 Invalid with the generic message (``NewGenericServerResponse``); the specific
    reason is kept as the exception's cause for logs."""
    err = ApiError(422, "Invalid", _REJECTED)
    err.__cause__ = ValueError(detail)
    return err


def _go_repr(value: Any) -> str:
    """Go's ``%v`` rendering of decoded JSON, used in SMP error messages."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = " ".join(f"{k}:{_go_repr(value[k])}" for k in sorted(value))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(_go_repr(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
