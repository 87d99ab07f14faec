"""Just enough OpenAPI v3 for `kubectl apply/create --validate=strict`.

kubectl reads the per-group-version document to learn whether the server validates fields
itself: it looks for a PATCH operation tagged with the kind's group-version-kind that takes a
`fieldValidation` query parameter. With that it sends `fieldValidation=Strict` and skips
client-side schema validation, and builds strategic merge patches from its compiled-in
types (the PATCH operations carry no request body schema, on purpose). `/openapi/v2` is not
served; kubectl treats that as "no v2 schema" and falls back silently.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from localkube import resources as R
from localkube.apiserver.routing import group_versions, not_found
from localkube.resources import Resource

_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


@cache
def gv_document(group: str, version: str) -> bytes:
    """The OpenAPI v3 document of one group-version, as served bytes."""
    paths: dict[str, dict] = {}
    for res in R.RESOURCES:
        if res.group == group and res.version == version:
            paths[_item_path(res)] = _item_operations(res)
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def _item_path(res: Resource) -> str:
    ns = "/namespaces/{namespace}" if res.namespaced else ""
    return f"/{_gv_path(res.group, res.version)}{ns}/{res.plural}/{{name}}"


def _item_operations(res: Resource) -> dict:
    gvk = {"group": res.group, "version": res.version, "kind": res.kind}
    params = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
    if res.namespaced:
        params.append(
            {"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}}
        )
    ops: dict = {"parameters": params}
    for method, action in (("get", "get"), ("put", "put"), ("patch", "patch"),
                           ("delete", "delete")):
        op: dict = {
            "operationId": f"{action}{res.kind}",
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            "responses": {"200": {"description": "OK"}},
        }
        if method in ("put", "patch"):
            op["parameters"] = [
                {"name": p, "in": "query", "schema": {"type": "string"}} for p in _QUERY_PARAMS
                if p != "force" or method == "patch"
            ]
        ops[method] = op
    return ops


@cache
def index() -> bytes:
    """`/openapi/v3`: where each group-version document lives, with a content hash."""
    paths = {}
    for group, versions in group_versions().items():
        for version in versions:
            digest = hashlib.sha256(gv_document(group, version)).hexdigest()[:32].upper()
            path = _gv_path(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return json.dumps({"paths": paths}, separators=(",", ":")).encode()


def document_for(path: str) -> bytes:
    """Serve `/openapi/v3` or `/openapi/v3/<gv path>`; 404 otherwise."""
    rest = path[len("/openapi/v3"):].strip("/")
    if not rest:
        return index()
    parts = rest.split("/")
    versions = group_versions()
    if parts[0] == "api" and len(parts) == 2 and parts[1] in versions.get("", []):
        return gv_document("", parts[1])
    if parts[0] == "apis" and len(parts) == 3 and parts[2] in versions.get(parts[1], []):
        return gv_document(parts[1], parts[2])
    raise not_found()
