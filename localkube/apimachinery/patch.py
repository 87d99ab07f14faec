"""PATCH semantics: RFC 6902 JSON patch, RFC 7386 merge patch, strategic merge patch, apply.

kubectl and the Python client drive most writes through patches: ``kubectl patch`` and
client-side ``apply`` send strategic merge patches, ``rollout undo`` replaces a whole pod
template with ``$patch: replace``, ``scale`` sends a merge patch, the tutorial's CPU change is a
JSON patch.  These functions reproduce the apiserver's results (including the order of
merged lists and which lists merge by which key, from the ``patchStrategy``/``patchMergeKey``
tags of k8s.io/api) and raise ``ApiError`` with the codes the apiserver uses.

All functions are pure: inputs are never mutated and results share no mutable parts with them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localkube.apimachinery.errors import ApiError, bad_request, unknown, unsupported_media_type
from localkube.apimachinery.meta import deep_copy, json_equal

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_CONTENT_TYPES",
    "STRATEGIC_MERGE_PATCH",
    "apply_patch",
    "json_merge_patch",
    "json_patch",
    "patch_object",
    "schema_for",
    "strategic_merge",
]

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


# =============================================================== RFC 6902 JSON patch


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


# ============================================================== RFC 7386 merge patch


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return deep_copy(value)


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result = deep_copy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = json_merge_patch(result.get(key), value)
        else:
            result[key] = _without_nulls(value)
    return result


# ======================================================== strategic merge patch schema


@dataclass(frozen=True)
class _Field:
    """Patch metadata of one field: strategy (``merge``/``replace``/``""``), the merge key of
    a list of objects, and the schema name of the nested object or list item."""

    strategy: str = ""
    key: str = ""
    elem: str | None = None


_NONE = _Field()


def _m(key: str = "", elem: str | None = None) -> _Field:
    return _Field("merge", key, elem)


def _t(elem: str) -> _Field:
    return _Field("", "", elem)


_CONDITIONS = {"conditions": _m("type")}

# Field tags transcribed from k8s.io/api (core/v1, apps/v1, batch/v1, policy/v1) and
# apimachinery's ObjectMeta: only fields with a patch strategy or leading to one are listed.
_SCHEMAS: dict[str, dict[str, _Field]] = {
    "ObjectMeta": {"ownerReferences": _m("uid"), "finalizers": _m()},
    "Object": {"metadata": _t("ObjectMeta")},
    "Container": {
        "ports": _m("containerPort"),
        "env": _m("name"),
        "volumeMounts": _m("mountPath"),
        "volumeDevices": _m("devicePath"),
    },
    "PodSpec": {
        "volumes": _m("name"),
        "initContainers": _m("name", "Container"),
        "containers": _m("name", "Container"),
        "ephemeralContainers": _m("name", "Container"),
        "imagePullSecrets": _m("name"),
        "hostAliases": _m("ip"),
        "topologySpreadConstraints": _m("topologyKey"),
        "schedulingGates": _m("name"),
        "resourceClaims": _m("name"),
    },
    "PodStatus": {
        "conditions": _m("type"),
        "hostIPs": _m("ip"),
        "podIPs": _m("ip"),
        "resourceClaimStatuses": _m("name"),
    },
    "PodTemplateSpec": {"metadata": _t("ObjectMeta"), "spec": _t("PodSpec")},
    "Pod": {"metadata": _t("ObjectMeta"), "spec": _t("PodSpec"), "status": _t("PodStatus")},
    "PodTemplate": {"metadata": _t("ObjectMeta"), "template": _t("PodTemplateSpec")},
    "PersistentVolumeClaimTemplate": {"metadata": _t("ObjectMeta")},
    "StatefulSetSpec": {
        "template": _t("PodTemplateSpec"),
        "volumeClaimTemplates": _Field("", "", "PersistentVolumeClaimTemplate"),
    },
    "StatefulSet": {
        "metadata": _t("ObjectMeta"),
        "spec": _t("StatefulSetSpec"),
        "status": _t("Conditions"),
    },
    "WorkloadSpec": {"template": _t("PodTemplateSpec")},
    "Deployment": {
        "metadata": _t("ObjectMeta"),
        "spec": _t("WorkloadSpec"),
        "status": _t("Conditions"),
    },
    "JobTemplateSpec": {"metadata": _t("ObjectMeta"), "spec": _t("WorkloadSpec")},
    "CronJob": {"metadata": _t("ObjectMeta"), "spec": _t("CronJobSpec")},
    "CronJobSpec": {"jobTemplate": _t("JobTemplateSpec")},
    "Conditions": _CONDITIONS,
    "ServiceSpec": {"ports": _m("port")},
    "Service": {
        "metadata": _t("ObjectMeta"),
        "spec": _t("ServiceSpec"),
        "status": _t("Conditions"),
    },
    "NodeSpec": {"podCIDRs": _m()},
    "NodeStatus": {"conditions": _m("type"), "addresses": _m("type")},
    "Node": {"metadata": _t("ObjectMeta"), "spec": _t("NodeSpec"), "status": _t("NodeStatus")},
    "Namespace": {"metadata": _t("ObjectMeta"), "status": _t("Conditions")},
    "PodDisruptionBudgetSpec": {"selector": _Field("replace")},
    "PodDisruptionBudget": {
        "metadata": _t("ObjectMeta"),
        "spec": _t("PodDisruptionBudgetSpec"),
        "status": _t("Conditions"),
    },
    "PersistentVolumeClaim": {"metadata": _t("ObjectMeta"), "status": _t("Conditions")},
    "ServiceAccount": {
        "metadata": _t("ObjectMeta"),
        "secrets": _m("name"),
        "imagePullSecrets": _m("name"),
    },
}
_KIND_ALIASES: dict[str, str] = {
    "ReplicaSet": "Deployment",
    "DaemonSet": "Deployment",
    "Job": "Deployment",
    "ReplicationController": "Deployment",
}
_RESOURCES: dict[str, str] = {
    "pods": "Pod",
    "podtemplates": "PodTemplate",
    "statefulsets": "StatefulSet",
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "daemonsets": "DaemonSet",
    "jobs": "Job",
    "cronjobs": "CronJob",
    "replicationcontrollers": "ReplicationController",
    "services": "Service",
    "nodes": "Node",
    "namespaces": "Namespace",
    "poddisruptionbudgets": "PodDisruptionBudget",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "serviceaccounts": "ServiceAccount",
}


def schema_for(hint: str | None) -> str:
    """Resolve a kind (``StatefulSet``), resource (``statefulsets``, ``statefulsets.apps``)
    or schema name to the schema used for strategic merges; unknown → metadata-only."""
    if not hint:
        return "Object"
    if hint in _SCHEMAS:
        return hint
    if hint in _KIND_ALIASES:
        return _KIND_ALIASES[hint]
    resource = hint.split("/")[0].split(".")[0].lower()
    kind = _RESOURCES.get(resource)
    if kind is None:
        kind = next((k for k in (*_SCHEMAS, *_KIND_ALIASES) if k.lower() == resource), None)
    if kind is None:
        return "Object"
    return _KIND_ALIASES.get(kind, kind)


def _field(schema: str | None, key: str) -> _Field:
    if schema is None:
        return _NONE
    return _SCHEMAS.get(schema, {}).get(key, _NONE)


# ============================================================ strategic merge patch


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


# ====================================================================== server-side apply


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


# ============================================================================ dispatch


def _decode_body(body: Any, content_type: str) -> Any:
    if not isinstance(body, str | bytes | bytearray):
        return body
    text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
    if content_type == APPLY_PATCH:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise bad_request(f"error decoding YAML: {e}") from None
    try:
        return json.loads(text)
    except ValueError as e:
        if content_type == STRATEGIC_MERGE_PATCH:
            raise bad_request("invalid JSON document") from None
        if content_type == MERGE_PATCH:
            raise bad_request("Invalid JSON Patch") from None
        raise bad_request(str(e)) from None


def patch_object(
    original: dict | None, content_type: str, body: Any, schema_hint: str | None = None
) -> dict:
    """Apply a PATCH request body to ``original`` according to its ``Content-Type``.

    ``body`` may be raw bytes/text or already decoded.  ``original`` may be ``None`` only for
    apply patches (server-side apply creates).  Raises ``ApiError`` as the apiserver does:
    415 for an unknown content type, 400 for undecodable bodies, 422/500 for failures.
    """
    media = content_type.split(";")[0].strip().lower()
    if media not in PATCH_CONTENT_TYPES:
        raise unsupported_media_type(list(PATCH_CONTENT_TYPES))
    patch = _decode_body(body, media)
    if media == APPLY_PATCH:
        return apply_patch(original, patch, schema_hint)
    if original is None:
        raise bad_request("nothing to patch")
    if media == JSON_PATCH:
        result = json_patch(original, patch)
        if not isinstance(result, dict):
            raise _rejected("patched document is not an object")
        return result
    if media == MERGE_PATCH:
        if patch is None:
            return deep_copy(original)
        if not isinstance(patch, dict):
            raise bad_request("Invalid JSON Patch")
        return json_merge_patch(original, patch)
    return strategic_merge(original, patch, schema_hint)
