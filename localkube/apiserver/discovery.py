"""Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`) and `/version`.

kubectl maps `sts`, `pdb`, `pods/eviction` and `statefulsets/scale` through these lists, and
drain decides between eviction and plain DELETE by what `/api/v1` says, so every entry is
derived from the resource catalog rather than written by hand.
"""

from __future__ import annotations

import platform

from localkube import resources as R
from localkube.apiserver.routing import Discovery, group_versions, not_found
from localkube.resources import Resource

KUBE_VERSION = "v1.32.0"

# Subresource -> (group, version, kind or None for the parent's kind, verbs).
SUBRESOURCES: dict[str, tuple[str, str, str | None, list[str]]] = {
    "status": ("", "", None, ["get", "patch", "update"]),
    "scale": ("autoscaling", "v1", "Scale", ["get", "patch", "update"]),
    "binding": ("", "v1", "Binding", ["create"]),
    "eviction": ("policy", "v1", "Eviction", ["create"]),
    "exec": ("", "v1", "PodExecOptions", ["create", "get"]),
    "log": ("", "v1", None, ["get"]),
    "portforward": ("", "v1", "PodPortForwardOptions", ["create", "get"]),
    "token": ("authentication.k8s.io", "v1", "TokenRequest", ["create"]),
}


def version_info() -> dict:
    """Every field the Python client's VersionInfo requires."""
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "major": "1",
        "minor": "32",
        "gitVersion": KUBE_VERSION,
        "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T17:59:15Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": f"linux/{machine}",
    }


def document(doc: Discovery, server_address: str) -> dict:
    """The discovery reply for a parsed discovery path; 404 for unknown groups/versions."""
    versions = group_versions()
    if doc.legacy:
        if doc.version is None:
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
                ],
            }
        return resource_list("", doc.version)
    if doc.group is None:
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [_group(g, v) for g, v in versions.items() if g],
        }
    if doc.group not in versions or not doc.group:
        raise not_found()
    if doc.version is None:
        return dict(_group(doc.group, versions[doc.group]), kind="APIGroup", apiVersion="v1")
    if doc.version not in versions[doc.group]:
        raise not_found()
    return resource_list(doc.group, doc.version)


def _group(group: str, versions: list[str]) -> dict:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def resource_list(group: str, version: str) -> dict:
    resources: list[dict] = []
    for res in R.RESOURCES:
        if res.group == group and res.version == version:
            resources.append(_entry(res))
            resources.extend(_sub_entry(res, sub) for sub in res.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def _entry(res: Resource) -> dict:
    entry: dict = {
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": sorted(res.verbs),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    return entry


def _sub_entry(res: Resource, sub: str) -> dict:
    group, version, kind, verbs = SUBRESOURCES.get(sub, ("", "", None, ["get"]))
    entry: dict = {
        "name": f"{res.plural}/{sub}",
        "singularName": "",
        "namespaced": res.namespaced,
        "kind": kind or res.kind,
        "verbs": verbs,
    }
    if group or (version and res.group):
        entry["group"] = group
        entry["version"] = version
    return entry
