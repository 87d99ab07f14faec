"""Decoding the Kubernetes protobuf request bodies that kubectl's typed clients send.

client-go's generated clients prefer protobuf, so `kubectl drain` POSTs each Eviction and
`kubectl create configmap|namespace` POST their objects as `application/vnd.kubernetes.protobuf`.
On a 415 client-go only switches to JSON for *later* requests, so the first write of such a
command would fail; drain would stop at its first eviction. This module decodes those few
kinds into the JSON form the registry takes. Anything else gets 415 (client-go then falls back
to JSON). Responses are never protobuf: those clients also accept JSON.

Wire format: the 4-byte magic `k8s\\0`, then a `runtime.Unknown` message whose `raw` field holds
the object's own message (field numbers from k8s.io/api's generated.proto).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

from localkube.apimachinery.errors import ApiError, bad_request

MAGIC = b"k8s\x00"

# A schema maps field number -> (json name, type); types: "string", "bytes" (base64 in JSON),
# "raw" (bytes kept as they are), "int", "int0" (an int Go always encodes: 0 means unset),
# "bool", "time", ("message", schema), ("map", value type), ("repeated", type).
# Go encodes non-pointer fields even when empty; JSON's omitempty drops them, and so do we
# for strings, "int0" and zero times (pointer fields keep explicit zeros: gracePeriodSeconds=0).
TYPE_META = {1: ("apiVersion", "string"), 2: ("kind", "string")}
UNKNOWN = {1: ("typeMeta", ("message", TYPE_META)), 2: ("raw", "raw"),
           3: ("contentEncoding", "string"), 4: ("contentType", "string")}
OWNER_REFERENCE = {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                   5: ("apiVersion", "string"), 6: ("controller", "bool"),
                   7: ("blockOwnerDeletion", "bool")}
OBJECT_META = {
    1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
    5: ("uid", "string"), 6: ("resourceVersion", "string"), 7: ("generation", "int0"),
    8: ("creationTimestamp", "time"), 9: ("deletionTimestamp", "time"),
    10: ("deletionGracePeriodSeconds", "int"), 11: ("labels", ("map", "string")),
    12: ("annotations", ("map", "string")),
    13: ("ownerReferences", ("repeated", ("message", OWNER_REFERENCE))),
    14: ("finalizers", ("repeated", "string")),
}
PRECONDITIONS = {1: ("uid", "string"), 2: ("resourceVersion", "string")}
DELETE_OPTIONS = {
    1: ("gracePeriodSeconds", "int"), 2: ("preconditions", ("message", PRECONDITIONS)),
    3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "string"),
    5: ("dryRun", ("repeated", "string")),
}
KINDS: dict[tuple[str, str], dict] = {
    ("policy/v1", "Eviction"): {1: ("metadata", ("message", OBJECT_META)),
                                2: ("deleteOptions", ("message", DELETE_OPTIONS))},
    ("policy/v1beta1", "Eviction"): {1: ("metadata", ("message", OBJECT_META)),
                                     2: ("deleteOptions", ("message", DELETE_OPTIONS))},
    ("v1", "ConfigMap"): {1: ("metadata", ("message", OBJECT_META)),
                          2: ("data", ("map", "string")), 3: ("binaryData", ("map", "bytes")),
                          4: ("immutable", "bool")},
    ("v1", "Namespace"): {1: ("metadata", ("message", OBJECT_META)),
                          2: ("spec", ("message", {1: ("finalizers", ("repeated", "string"))}))},
    ("v1", "DeleteOptions"): DELETE_OPTIONS,
}

# What `kubectl create serviceaccount|token|role|rolebinding|clusterrole|clusterrolebinding`
# and `kubectl auth can-i|whoami` send (field numbers from k8s.io/api generated.proto).
# Repeated strings keep "" (the core API group in a PolicyRule).
OBJECT_REFERENCE = {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
                    4: ("uid", "string"), 5: ("apiVersion", "string")}
POLICY_RULE = {1: ("verbs", ("repeated", "str0")), 2: ("apiGroups", ("repeated", "str0")),
               3: ("resources", ("repeated", "str0")),
               4: ("resourceNames", ("repeated", "str0")),
               5: ("nonResourceURLs", ("repeated", "str0"))}
SUBJECT = {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"),
           4: ("namespace", "string")}
ROLE_REF = {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")}
BINDING = {1: ("metadata", ("message", OBJECT_META)),
           2: ("subjects", ("repeated", ("message", SUBJECT))),
           3: ("roleRef", ("message", ROLE_REF))}
RESOURCE_ATTRIBUTES = {1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
                       4: ("version", "string"), 5: ("resource", "string"),
                       6: ("subresource", "string"), 7: ("name", "string")}
KINDS.update({
    ("v1", "ServiceAccount"): {
        1: ("metadata", ("message", OBJECT_META)),
        2: ("secrets", ("repeated", ("message", OBJECT_REFERENCE))),
        3: ("imagePullSecrets", ("repeated", ("message", {1: ("name", "string")}))),
        4: ("automountServiceAccountToken", "bool")},
    ("authentication.k8s.io/v1", "TokenRequest"): {
        1: ("metadata", ("message", OBJECT_META)),
        2: ("spec", ("message", {
            1: ("audiences", ("repeated", "str0")),
            3: ("boundObjectRef", ("message", {1: ("kind", "string"),
                                               2: ("apiVersion", "string"),
                                               3: ("name", "string"), 4: ("uid", "string")})),
            4: ("expirationSeconds", "int")}))},
    ("authentication.k8s.io/v1", "SelfSubjectReview"): {
        1: ("metadata", ("message", OBJECT_META))},
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): {
        1: ("metadata", ("message", OBJECT_META)),
        2: ("spec", ("message", {
            1: ("resourceAttributes", ("message", RESOURCE_ATTRIBUTES)),
            2: ("nonResourceAttributes", ("message", {1: ("path", "string"),
                                                      2: ("verb", "string")}))}))},
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): {
        1: ("metadata", ("message", OBJECT_META)),
        2: ("spec", ("message", {1: ("namespace", "string")}))},
    ("rbac.authorization.k8s.io/v1", "Role"): {
        1: ("metadata", ("message", OBJECT_META)),
        2: ("rules", ("repeated", ("message", POLICY_RULE)))},
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): {
        1: ("metadata", ("message", OBJECT_META)),
        2: ("rules", ("repeated", ("message", POLICY_RULE)))},
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): BINDING,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): BINDING,
})
_TIME = {1: ("seconds", "int"), 2: ("nanos", "int")}
_UNSET = object()


class _Malformed(Exception):
    pass


def decode(body: bytes, unsupported: ApiError) -> dict:
    """The JSON form of a protobuf-encoded object; `unsupported` (a 415) for other kinds."""
    if not body.startswith(MAGIC):
        raise bad_request("the body of the request is not a Kubernetes protobuf message")
    try:
        envelope = _message(body[len(MAGIC):], UNKNOWN)
        type_meta = envelope.get("typeMeta") or {}
        key = (type_meta.get("apiVersion", ""), type_meta.get("kind", ""))
        schema = KINDS.get(key)
        if schema is None or envelope.get("contentEncoding"):
            raise unsupported
        obj = _message(envelope.get("raw", b""), schema)
    except (_Malformed, IndexError, ValueError) as exc:
        raise bad_request(f"unable to decode protobuf body: {exc}") from None
    return {"apiVersion": key[0], "kind": key[1], **obj}


def _fields(data: bytes) -> Iterator[tuple[int, int, bytes | int]]:
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > end:
                raise _Malformed("truncated field")
            yield number, wire, data[pos:pos + size]
            pos += size
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise _Malformed(f"unsupported wire type {wire}")
    if pos != end:
        raise _Malformed("truncated message")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _Malformed("bad varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _message(data: bytes, schema: dict) -> dict:
    out: dict = {}
    for number, wire, value in _fields(data):
        if number not in schema:
            continue  # fields we do not model (managedFields, selfLink, ...)
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "repeated":
            out.setdefault(name, []).append(_scalar(kind[1], wire, value))
        elif isinstance(kind, tuple) and kind[0] == "map":
            entry = _message(_bytes(wire, value), {1: ("k", "string"), 2: ("v", kind[1])})
            out.setdefault(name, {})[entry.get("k", "")] = entry.get("v", "")
        else:
            decoded = _scalar(kind, wire, value)
            if decoded is not _UNSET:
                out[name] = decoded
    return out


def _scalar(kind: str | tuple, wire: int, value: bytes | int) -> object:
    if isinstance(kind, tuple):  # ("message", schema)
        return _message(_bytes(wire, value), kind[1])
    if kind == "string":
        return _bytes(wire, value).decode("utf-8") or _UNSET
    if kind == "str0":
        return _bytes(wire, value).decode("utf-8")
    if kind == "raw":
        return _bytes(wire, value)
    if kind == "bytes":
        return base64.b64encode(_bytes(wire, value)).decode()
    if kind == "time":
        seconds = _message(_bytes(wire, value), _TIME).get("seconds", 0)
        if seconds <= 0:
            return _UNSET  # Go's zero time: unset
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    number = _int(wire, value)
    if kind == "bool":
        return bool(number)
    number = number - (1 << 64) if number >= 1 << 63 else number
    return _UNSET if kind == "int0" and number == 0 else number


def _bytes(wire: int, value: bytes | int) -> bytes:
    if wire != 2 or not isinstance(value, bytes):
        raise _Malformed("expected a length-delimited field")
    return value


def _int(wire: int, value: bytes | int) -> int:
    if wire != 0 or not isinstance(value, int):
        raise _Malformed("expected a varint field")
    return value
