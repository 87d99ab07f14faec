"""Server-side representations other than the object: Table and PartialObjectMetadata.

`kubectl get` asks for a Table and prints its columns verbatim, so column logic lives in
`localkube.apiserver.tables` (per kind). This module adapts its output to the request
(`includeObject`, meta.k8s.io version).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from localkube.apimachinery.errors import bad_request
from localkube.apiserver import tables
from localkube.apiserver.negotiation import As, Output
from localkube.resources import Resource

META_GROUP = "meta.k8s.io"

INCLUDE_OBJECT = ("None", "Metadata", "Object")


def include_object(value: str | None) -> str:
    if value in (None, ""):
        return "Metadata"
    if value not in INCLUDE_OBJECT:
        raise bad_request(
            f'includeObject: Unsupported value: "{value}": supported values: '
            '"None", "Metadata", "Object"'
        )
    return value


def partial(obj: dict, version: str = "v1") -> dict:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"{META_GROUP}/{version}",
        "metadata": obj.get("metadata", {}),
    }


def partial_list(objs: Sequence[dict], rv: str, version: str = "v1") -> dict:
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": f"{META_GROUP}/{version}",
        "metadata": {"resourceVersion": rv},
        "items": [partial(o, version) for o in objs],
    }


def table(res: Resource, objs: Sequence[dict], rv: str, output: Output, include: str) -> dict:
    """A meta.k8s.io Table of `objs`, one row per object, in order."""
    result = tables.to_table(res.kind, objs, time.time(), rv, include_object=include)
    version = f"{META_GROUP}/{output.meta_version}"
    result["apiVersion"] = version
    if include == "Metadata":
        for row in result["rows"]:
            row.get("object", {})["apiVersion"] = version
    return result


def transform_one(res: Resource, obj: dict, rv: str, output: Output, include: str) -> dict:
    """The negotiated representation of a single object (GET, or one watch event)."""
    if output.as_ is As.TABLE:
        return table(res, [obj], rv, output, include)
    if output.as_ in (As.PARTIAL, As.PARTIAL_LIST):
        return partial(obj, output.meta_version)
    return obj


def transform_list(
    res: Resource, objs: Sequence[dict], rv: str, output: Output, include: str
) -> dict:
    if output.as_ is As.TABLE:
        return table(res, objs, rv, output, include)
    return partial_list(objs, rv, output.meta_version)
