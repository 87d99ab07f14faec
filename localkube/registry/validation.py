"""Validation shared by every kind: names, labels, annotations, and the cause format.

A cause is the dict a Kubernetes `Status` lists under `details.causes`:
`{"reason": "FieldValueInvalid", "message": "...", "field": "metadata.name"}`.
"""

from __future__ import annotations

import re

from localkube.resources import Resource

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

# Kinds whose names must be DNS-1123 labels rather than subdomains.
LABEL_NAMED = {"Namespace", "Service"}
# Kinds whose names need only be valid path segments (ValidateRBACName): `system:discovery`.
PATH_SEGMENT_NAMED = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def cause(field: str, message: str, reason: str = "FieldValueInvalid") -> dict:
    return {"reason": reason, "message": message, "field": field}


def required(field: str, message: str = "Required value") -> dict:
    return cause(
        field,
        message if message.startswith("Required") else f"Required value: {message}",
        "FieldValueRequired",
    )


def forbidden(field: str, message: str) -> dict:
    return cause(field, f"Forbidden: {message}", "FieldValueForbidden")


def invalid_value(field: str, value: object, detail: str) -> dict:
    return cause(field, f"Invalid value: {_go_repr(value)}: {detail}")


def _go_repr(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def validate_qualified_key(field: str, key: str) -> list[dict]:
    prefix, _, name = key.rpartition("/")
    out = []
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        out.append(invalid_value(field, key, "prefix part must be a lowercase RFC 1123 subdomain"))
    if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        out.append(
            invalid_value(
                field,
                key,
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                "or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            )
        )
    return out


def validate_labels(field: str, labels: object) -> list[dict]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [invalid_value(field, labels, "must be a map of string keys to string values")]
    out: list[dict] = []
    for key, value in labels.items():
        out += validate_qualified_key(field, str(key))
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            out.append(
                invalid_value(
                    f"{field}",
                    value,
                    "a valid label must be an empty string or consist of alphanumeric characters, "
                    "'-', '_' or '.', and must start and end with an alphanumeric character",
                )
            )
    return out


def validate_name(kind: str, field: str, name: object) -> list[dict]:
    if not isinstance(name, str) or not name:
        return [required(field)]
    if kind in PATH_SEGMENT_NAMED:
        return _path_segment_causes(field, name)
    pattern, limit, what = (
        (DNS1123_LABEL, 63, "RFC 1123 label")
        if kind in LABEL_NAMED
        else (DNS1123_SUBDOMAIN, 253, "RFC 1123 subdomain")
    )
    if len(name) > limit or not pattern.match(name):
        return [
            invalid_value(
                field,
                name,
                f"a lowercase {what} must consist of lower case alphanumeric characters, "
                "'-' or '.', and must start and end with an alphanumeric character",
            )
        ]
    return []


def _path_segment_causes(field: str, name: str) -> list[dict]:
    if name in (".", ".."):
        return [invalid_value(field, name, f"may not be '{name}'")]
    return [invalid_value(field, name, f"may not contain '{c}'") for c in "/%" if c in name]


def validate_meta(res: Resource, obj: dict) -> list[dict]:
    meta = obj.get("metadata") or {}
    if not isinstance(meta, dict):
        return [invalid_value("metadata", meta, "must be an object")]
    out = validate_name(res.kind, "metadata.name", meta.get("name"))
    out += validate_labels("metadata.labels", meta.get("labels"))
    annotations = meta.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, dict) or not all(
            isinstance(v, str) for v in annotations.values()
        ):
            out.append(
                invalid_value(
                    "metadata.annotations",
                    annotations,
                    "must be a map of string keys to string values",
                )
            )
        else:
            for key in annotations:
                out += validate_qualified_key("metadata.annotations", str(key))
    finalizers = meta.get("finalizers")
    if finalizers is not None and (
        not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers)
    ):
        out.append(invalid_value("metadata.finalizers", finalizers, "must be a list of strings"))
    owners = meta.get("ownerReferences")
    if owners is not None:
        if not isinstance(owners, list):
            out.append(invalid_value("metadata.ownerReferences", owners, "must be a list"))
        else:
            controllers = 0
            for i, ref in enumerate(owners):
                if not isinstance(ref, dict):
                    out.append(
                        invalid_value(f"metadata.ownerReferences[{i}]", ref, "must be an object")
                    )
                    continue
                for key in ("apiVersion", "kind", "name", "uid"):
                    if not ref.get(key):
                        out.append(required(f"metadata.ownerReferences[{i}].{key}"))
                controllers += bool(ref.get("controller"))
            if controllers > 1:
                out.append(
                    invalid_value(
                        "metadata.ownerReferences",
                        owners,
                        "Only one reference can have Controller set to true",
                    )
                )
    return out
