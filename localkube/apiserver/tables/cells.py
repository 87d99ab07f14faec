"""Shared column definitions and object-field helpers for the Table printers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from localkube.apimachinery.meta import (
    to_datetime,
    translate_timestamp_since,
)

Row = Callable[[Mapping[str, Any], datetime], list[Any]]

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some"
    " resources may allow a client to request the generation of an appropriate name"
    " automatically. Name is primarily intended for creation idempotence and configuration"
    " definition. Cannot be updated. More info:"
    " https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created."
    " It is not guaranteed to be set in happens-before order across separate operations. Clients"
    " may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by"
    " the system. Read-only. Null for lists. More info:"
    " https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


def _col(name: str, typ: str = "string", desc: str = "", priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


def _name_col() -> dict:
    return _col("Name", fmt="name", desc=_NAME_DOC)


def _age_col() -> dict:
    return _col("Age", desc=_AGE_DOC)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(_meta(obj).get("creationTimestamp"), now)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return to_datetime(value)
    except (ValueError, TypeError, OverflowError):
        return None
