"""Simplified server-side apply (create or recursive merge without field ownership)."""

from __future__ import annotations

from typing import Any

from localkube.apimachinery.errors import bad_request
from localkube.apimachinery.meta import deep_copy
from localkube.apimachinery.patching.schemas import _Field, _field, schema_for
from localkube.apimachinery.patching.strategic import (
    _clean,
    _dedupe,
    _element_kind,
    _merge_key_value,
    _scalar_key,
    _smp_errors,
)


def _apply_value(live: Any, applied: Any, field: _Field) -> Any:
    if isinstance(applied, dict) and isinstance(live, dict) and field.strategy != "replace":
        return _apply_map(live, applied, field.elem)
    if isinstance(applied, list) and isinstance(live, list) and field.strategy == "merge":
        kind = _element_kind(live, applied)
        if kind != "map":
            return _dedupe(live + _clean(applied))
        if not field.key:
            return _clean(applied)
        merged = list(live)
        for item in applied:
            ident = _merge_key_value(item, field.key)
            for idx, cur in enumerate(merged):
                if isinstance(cur, dict) and _scalar_key(cur.get(field.key)) == ident:
                    merged[idx] = _apply_map(cur, item, field.elem)
                    break
            else:
                merged.append(_clean(item))
        return merged
    return _clean(applied)


def _apply_map(live: dict, applied: dict, schema: str | None) -> dict:
    out = deep_copy(live)
    for key, value in applied.items():
        if value is None:
            out.pop(key, None)
        elif key in out:
            out[key] = _apply_value(out[key], value, _field(schema, key))
        else:
            out[key] = _clean(value)
    return out


def apply_patch(live: dict | None, applied: dict, schema_hint: str | None = None) -> dict:
    """A simplified server-side apply: create (``live`` is ``None``) or merge.

    Objects merge recursively; lists with a merge key merge item by item (unlisted live
    items are kept, since field ownership is not tracked); set-like scalar lists are unioned;
    other lists and atomic fields are replaced; ``null`` removes a field.
    """
    if not isinstance(applied, dict):
        raise bad_request("invalid apply configuration: expected an object")
    if live is None:
        return _clean(applied)
    schema = schema_for(schema_hint or applied.get("kind") or live.get("kind"))
    return _smp_errors(lambda: _apply_map(live, applied, schema))
