"""RFC 6902 JSON patch with evanphx/json-patch v4 semantics and apiserver errors."""

from __future__ import annotations

import json
from typing import Any

from localkube.apimachinery.errors import ApiError, bad_request
from localkube.apimachinery.meta import deep_copy, json_equal
from localkube.apimachinery.patching.common import _rejected


def _decode_pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise _rejected("path must be a string")
    if path == "":
        return []
    if not path.startswith("/"):
        raise _rejected(f"JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(token: str, size: int, *, allow_end: bool) -> int:
    """Array index for ``token`` (``-`` means the end when adding; negatives count from the
    end, as evanphx/json-patch v4 allows)."""
    if token == "-" and allow_end:
        return size
    try:
        idx = int(token)
    except ValueError:
        raise _rejected(f"value was not a proper array index: '{token}'") from None
    limit = size + 1 if allow_end else size
    if idx < 0:
        if idx < -limit:
            raise _rejected(f"Unable to access invalid index: {idx}")
        idx += limit
    if idx >= limit:
        raise _rejected(f"Unable to access invalid index: {idx}")
    return idx


def _parent(doc: Any, parts: list[str], op: str) -> Any:
    cur = doc
    for token in parts[:-1]:
        if isinstance(cur, dict):
            if token not in cur or cur[token] is None:
                raise _rejected(f"{op} operation does not apply: doc is missing path")
            cur = cur[token]
        elif isinstance(cur, list):
            cur = cur[_index(token, len(cur), allow_end=False)]
        else:
            raise _rejected(f"{op} operation does not apply: doc is missing path")
        if not isinstance(cur, dict | list):
            raise _rejected(f"{op} operation does not apply: doc is missing path")
    return cur


def _get(doc: Any, parts: list[str], op: str) -> Any:
    if not parts:
        return doc
    parent = _parent(doc, parts, op)
    key = parts[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise _rejected(f"{op} operation does not apply: doc is missing key {key}")
        return parent[key]
    return parent[_index(key, len(parent), allow_end=False)]


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _parent(doc, parts, "add")
    key = parts[-1]
    if isinstance(parent, dict):
        parent[key] = value
    else:
        parent.insert(_index(key, len(parent), allow_end=True), value)
    return doc


def _remove(doc: Any, parts: list[str], op: str = "remove") -> tuple[Any, Any]:
    if not parts:
        raise _rejected(f"{op} operation does not apply to the whole document")
    parent = _parent(doc, parts, op)
    key = parts[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise _rejected(f"Unable to remove nonexistent key: {key}")
        return doc, parent.pop(key)
    return doc, parent.pop(_index(key, len(parent), allow_end=False))


def _replace(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        if not isinstance(value, dict | list):
            raise _rejected("replace operation value must be object or array")
        return value
    parent = _parent(doc, parts, "replace")
    key = parts[-1]
    if isinstance(parent, dict):
        parent[key] = value  # v4 replaces a missing member too
    else:
        parent[_index(key, len(parent), allow_end=False)] = value
    return doc


def _decode_operations(ops: Any) -> list[dict]:
    if isinstance(ops, str | bytes | bytearray):
        try:
            ops = json.loads(ops)
        except ValueError as e:
            raise bad_request(str(e)) from None
    if not isinstance(ops, list):
        kind = "object" if isinstance(ops, dict) else type(ops).__name__
        raise bad_request(f"json: cannot unmarshal {kind} into Go value of type jsonpatch.Patch")
    for op in ops:
        if not isinstance(op, dict):
            raise bad_request(
                "json: cannot unmarshal non-object into Go value of type jsonpatch.Operation"
            )
    return ops


def json_patch(doc: Any, ops: Any) -> Any:
    """Apply an RFC 6902 patch (a list of operations, or its JSON text) to ``doc``.

    A body that is not a list of objects raises 400; any failing operation (missing path,
    bad index, failed ``test``, unknown ``op``) raises the apiserver's generic 422.
    """
    operations = _decode_operations(ops)
    result = deep_copy(doc)
    for op in operations:
        kind = op.get("op")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise _rejected(f"{kind} operation is missing a value")
        if kind == "add":
            result = _add(result, _decode_pointer(op.get("path")), deep_copy(op["value"]))
        elif kind == "remove":
            result, _ = _remove(result, _decode_pointer(op.get("path")))
        elif kind == "replace":
            result = _replace(result, _decode_pointer(op.get("path")), deep_copy(op["value"]))
        elif kind in ("move", "copy"):
            src = _decode_pointer(op.get("from"))
            dst = _decode_pointer(op.get("path"))
            if kind == "move":
                if src == dst:
                    continue
                if dst[: len(src)] == src:
                    raise _rejected("move operation cannot move a value into one of its children")
                result, value = _remove(result, src, "move")
            else:
                value = deep_copy(_get(result, src, "copy"))
            result = _add(result, dst, value)
        elif kind == "test":
            parts = _decode_pointer(op.get("path"))
            try:
                actual = _get(result, parts, "test")
            except ApiError:
                parent = _parent(result, parts, "test") if parts else None
                if isinstance(parent, dict) and op["value"] is None:
                    continue  # v4: a missing member tests equal to null
                raise
            if not json_equal(actual, op["value"]):
                raise _rejected(f"testing value {op.get('path')} failed")
        else:
            raise _rejected(f"Unexpected kind: {kind if kind is not None else 'unknown'}")
    return result
