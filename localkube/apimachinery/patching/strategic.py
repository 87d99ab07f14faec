"""Strategic merge patch: directives, keyed list merges and the apiserver's error mapping."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from localkube.apimachinery.errors import ApiError, bad_request, unknown
from localkube.apimachinery.meta import deep_copy
from localkube.apimachinery.patching.common import _go_repr, _rejected
from localkube.apimachinery.patching.schemas import _Field, _field, schema_for


class _SmpBadRequest(Exception):
    """One of mergepatch's format errors that the apiserver maps to 400."""


class _SmpUnprocessable(Exception):
    """Lists of lists / retainKeys mismatches, mapped to the generic 422."""


_DIRECTIVE = "$patch"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList"
_SET_ORDER = "$setElementOrder"
_RETAIN_KEYS = "$retainKeys"


def _clean(value: Any) -> Any:
    """Drop ``null`` members and directive keys, as decoding the merged map into a typed
    object would."""
    if isinstance(value, dict):
        return {
            k: _clean(v) for k, v in value.items() if v is not None and not str(k).startswith("$")
        }
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """``removeDirectives``: a map carrying ``$patch`` is dropped entirely, list items too."""
    if isinstance(value, dict):
        if _DIRECTIVE in value:
            return None, False
        out = {}
        for k, v in value.items():
            nv, keep = _remove_directives(v)
            if keep:
                out[k] = nv
        return out, True
    if isinstance(value, list):
        items = []
        for v in value:
            nv, keep = _remove_directives(v)
            if keep:
                items.append(nv)
        return items, True
    return value, True


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "nil"
    return "string"


def _scalar_key(value: Any) -> tuple[str, Any]:
    """Hashable identity of a JSON scalar that keeps ``true`` apart from ``1``."""
    kind = _kind_of(value)
    if kind in ("map", "slice"):
        return kind, json.dumps(value, sort_keys=True)
    return kind, value


def _element_kind(*lists: list) -> str | None:
    kind: str | None = None
    for items in lists:
        for v in items:
            k = _kind_of(v)
            if kind is None:
                if k == "slice":
                    raise _SmpUnprocessable("lists of lists are not supported")
                kind = k
            elif k != kind:
                raise ValueError(f"list element types are not identical: {_go_repr(list(lists))}")
    return kind


def _merge_key_value(item: Any, key: str) -> tuple[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"expected a map, but received a {_kind_of(item)}")
    if key not in item:
        raise ValueError(f"map: {_go_repr(item)} does not contain declared merge key: {key}")
    return _scalar_key(item[key])


def _identity(item: Any, key: str, kind: str | None) -> tuple[str, Any]:
    if kind == "map":
        if isinstance(item, dict):
            return _scalar_key(item.get(key))
        return ("nil", None)
    return _scalar_key(item)


def _position(order: list, item: Any, key: str, kind: str | None) -> int:
    ident = _identity(item, key, kind)
    for i, candidate in enumerate(order):
        if _identity(candidate, key, kind) == ident:
            return i
    return -1


def _sort_by(items: list, order: list, key: str, kind: str | None) -> list:
    if kind == "map":
        for v in (*items, *order):
            _merge_key_value(v, key)
        keep = [v for v in items if not (isinstance(v, dict) and v.get(_DIRECTIVE) == "delete")]
        deletes = [v for v in items if isinstance(v, dict) and v.get(_DIRECTIVE) == "delete"]
    else:
        keep, deletes = list(items), []

    def rank(v: Any) -> int:
        p = _position(order, v, key, kind)
        return p if p >= 0 else len(order)

    return sorted(keep, key=rank) + deletes


def _normalize_order(
    patch_items: list,
    server_only: list,
    patch_order: list,
    server_order: list,
    key: str,
    kind: str | None,
) -> list:
    """``normalizeElementOrder``: patch items in patch order, server-only items in live order,
    interleaved by their live positions (new items come before later live ones)."""
    right = _sort_by(patch_items, patch_order, key, kind)
    left = _sort_by(server_only, server_order, key, kind)
    out: list = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _position(server_order, left[i], key, kind)
            ri = _position(server_order, right[j], key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _partition(merged: list, by: list, key: str, kind: str | None) -> tuple[list, list]:
    wanted = {_identity(v, key, kind) for v in by}
    if kind == "map":
        for v in merged:
            _merge_key_value(v, key)
    inside = [v for v in merged if _identity(v, key, kind) in wanted]
    outside = [v for v in merged if _identity(v, key, kind) not in wanted]
    return inside, outside


def _dedupe(items: list) -> list:
    seen: set = set()
    out = []
    for v in items:
        ident = _scalar_key(v)
        if ident not in seen:
            seen.add(ident)
            out.append(v)
    return out


def _merge_list(original: list, patch: list, field: _Field, delete_list: bool) -> list:
    """``mergeSlice`` for a list with ``patchStrategy: merge`` (or a deletion list)."""
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    key = field.key
    if kind != "map":
        if delete_list:
            doomed = {_scalar_key(v) for v in patch}
            return [v for v in original if _scalar_key(v) not in doomed]
        merged = _dedupe(original + [_clean(v) for v in patch])
    else:
        if not key:
            raise ValueError(f"cannot merge lists without merge key for {field.elem or 'list'}")
        plain: list = []
        replace = False
        for item in patch:
            directive = item.get(_DIRECTIVE) if isinstance(item, dict) else None
            if directive is None:
                plain.append(item)
            elif directive == "delete":
                ident = _merge_key_value(item, key)
                original = [o for o in original if _identity(o, key, kind) != ident]
            elif directive == "replace":
                replace = True
            elif directive == "merge":
                raise ValueError("merging lists cannot yet be specified in the patch")
            else:
                raise ValueError(f"unknown patch type: {directive} in map: {_go_repr(item)}")
        if replace:
            original, patch = [_clean(v) for v in plain], []
        else:
            patch = plain
        merged = list(original)
        for item in patch:
            ident = _merge_key_value(item, key)
            for idx, live in enumerate(merged):
                if isinstance(live, dict) and key in live and _scalar_key(live[key]) == ident:
                    merged[idx] = _merge_map(live, item, field.elem)
                    break
            else:
                merged.append(_clean(item))
    inside, outside = _partition(merged, patch, key, kind)
    return _normalize_order(inside, outside, patch, original, key, kind)


def _retain_keys(original: dict, patch: dict) -> dict:
    retain = patch.pop(_RETAIN_KEYS, None)
    if retain is None:
        return original
    if not isinstance(retain, list):
        raise _SmpBadRequest("invalid patch format of retainKeys")
    allowed = {k for k in retain if isinstance(k, str)}
    for k, v in patch.items():
        if v is None or k.startswith((_DELETE_PRIMITIVES, _SET_ORDER)):
            continue
        if k not in allowed:
            raise _SmpBadRequest("invalid patch format of retainKeys")
    return {k: v for k, v in original.items() if k in allowed}


def _set_element_order(original: dict, patch: dict, schema: str | None) -> None:
    """Process ``$setElementOrder/<list>`` together with the list it orders (mutates both
    working copies)."""
    for directive in [k for k in patch if k.startswith(_SET_ORDER)]:
        order = patch.pop(directive)
        prefix, _, name = directive.partition("/")
        if prefix != _SET_ORDER or not name or not isinstance(order, list):
            raise _SmpBadRequest("invalid patch format of setElementOrder list")
        field = _field(schema, name)
        has_live, has_patch = name in original, name in patch
        live = original.get(name) if has_live else None
        patch_list = patch.get(name) if has_patch else None
        if (has_live and not isinstance(live, list)) or (
            has_patch and not isinstance(patch_list, list)
        ):
            raise ValueError(f"expected a slice for {name}")
        _check_order(patch_list or [], order, field.key)
        if has_live and not has_patch:
            merged = list(live or [])
        elif has_patch and not has_live:
            merged, _ = _remove_directives(patch_list)
            merged = _clean(merged)
        elif has_live and has_patch:
            if field.strategy == "merge":
                merged = _merge_list(live or [], patch_list or [], field, False)
            else:
                merged = _clean(patch_list)
        else:
            continue
        kind = _element_kind(live or [], patch_list or [])
        inside, outside = _partition(merged, order, field.key, kind)
        original[name] = _normalize_order(inside, outside, order, live or [], field.key, kind)
        patch.pop(name, None)


def _check_order(patch_list: list, order: list, key: str) -> None:
    """``validatePatchWithSetOrderList``: patch items must appear in the order list, in order."""
    if not patch_list or not order:
        return
    items = [
        v for v in patch_list if not (key and isinstance(v, dict) and v.get(_DIRECTIVE) == "delete")
    ]
    pi = oi = 0
    while pi < len(items) and oi < len(order):
        if isinstance(items[pi], dict) and _DIRECTIVE in items[pi]:
            pi += 1
            continue
        if key:
            same = _merge_key_value(items[pi], key) == _merge_key_value(order[oi], key)
        else:
            same = _scalar_key(items[pi]) == _scalar_key(order[oi])
        if same:
            pi += 1
        oi += 1
    if pi < len(items):
        raise ValueError(
            f"The order in patch list:\n{_go_repr(patch_list)}\n doesn't match "
            f"{_SET_ORDER} list:\n{_go_repr(order)}\n"
        )


def _merge_map(original: Any, patch: dict, schema: str | None) -> dict:
    """``mergeMap`` with ``IgnoreUnmatchedNulls`` and ``MergeParallelList``, on copies."""
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == "replace":
            return _clean({k: v for k, v in patch.items() if k != _DIRECTIVE})
        if directive == "delete":
            return {}
        if directive != "merge":
            raise ValueError(f"unknown patch type: {directive} in map: {_go_repr(patch)}")
        patch = {k: v for k, v in patch.items() if k != _DIRECTIVE}
    work = deep_copy(original) if isinstance(original, dict) else {}
    patch = dict(patch)
    work = _retain_keys(work, patch)
    _set_element_order(work, patch, schema)
    for key, pv in patch.items():
        delete_list = False
        if key.startswith(_DELETE_PRIMITIVES):
            prefix, _, name = key.partition("/")
            if prefix != _DELETE_PRIMITIVES or not name:
                raise _SmpBadRequest("invalid patch format of primitive list")
            key, delete_list = name, True
        if pv is None:
            work.pop(key, None)
            continue
        if key not in work or _kind_of(work[key]) != _kind_of(pv):
            if not delete_list:
                value, keep = _remove_directives(_clean_nulls_only(pv))
                if keep:
                    work[key] = _clean(value)
                else:
                    work.pop(key, None)
            continue
        field = _field(schema, key)
        live = work[key]
        if isinstance(live, dict):
            if field.strategy == "replace":
                work[key] = _clean(pv)
            else:
                work[key] = _merge_map(live, pv, field.elem)
        elif isinstance(live, list):
            if field.strategy == "merge" or delete_list:
                work[key] = _merge_list(live, pv, field, delete_list)
            else:
                work[key] = _clean(pv)
        else:
            work[key] = deep_copy(pv)
    return work


def _clean_nulls_only(value: Any) -> Any:
    """``discardNullValuesFromPatch``: drop null members but keep directives for
    ``removeDirectives`` to see."""
    if isinstance(value, dict):
        return {k: _clean_nulls_only(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean_nulls_only(v) for v in value]
    return value


def _smp_errors(fn: Callable[[], dict]) -> dict:
    try:
        return fn()
    except _SmpBadRequest as e:
        raise bad_request(str(e)) from None
    except _SmpUnprocessable as e:
        raise _rejected(str(e)) from None
    except ApiError:
        raise
    except (ValueError, TypeError, AttributeError) as e:
        raise unknown(str(e)) from None


def strategic_merge(original: dict, patch: dict, schema_hint: str | None = None) -> dict:
    """Apply a strategic merge patch as the apiserver does for built-in kinds.

    ``schema_hint`` is a kind or resource name (``StatefulSet``, ``pods``); it defaults to
    ``original["kind"]`` and selects which lists merge by which key.  Honours ``null``
    deletes and the ``$patch`` (replace/delete/merge), ``$setElementOrder/…``,
    ``$retainKeys`` and ``$deleteFromPrimitiveList/…`` directives.  Format errors raise 400,
    lists of lists 422, other inconsistencies (e.g. a missing merge key) a 500 with the
    apiserver's message.
    """
    if not isinstance(patch, dict):
        raise bad_request("invalid JSON document")
    schema = schema_for(schema_hint or (original or {}).get("kind"))
    return _smp_errors(lambda: _merge_map(original or {}, patch, schema))
