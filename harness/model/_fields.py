"""Read fields from Kubernetes object dicts in either key style (pure, no I/O).

The API's JSON (a watch event's ``raw_object``, ``ApiClient().sanitize_for_serialization``)
uses camelCase keys; the Python client's ``V1Pod.to_dict()`` uses snake_case keys and fills
every absent field with ``None``. Callers name fields in camelCase; both shapes are found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

_UPPER = re.compile(r"(?<=[a-z0-9])([A-Z]+)")


@lru_cache(maxsize=256)
def _snake(key: str) -> str:
    return _UPPER.sub(r"_\1", key).lower()


def get(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...`` by camelCase name, or None where anything is missing."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        value = obj.get(key)
        if value is None:
            value = obj.get(_snake(key))
        obj = value
    return obj


def get_list(obj: Any, *path: str) -> list[Any]:
    value = get(obj, *path)
    return list(value) if isinstance(value, list | tuple) else []


def get_int(obj: Any, *path: str, default: int = 0) -> int:
    value = get(obj, *path)
    return default if value is None else int(value)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 string (JSON) or a datetime (``to_dict()``) as an aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
