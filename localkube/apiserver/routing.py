"""Turn a request path into what it addresses, as the apiserver's RequestInfoFactory does.

Kept free of I/O so the parsing rules (namespace subresources, the deprecated `/watch/`
prefix, cluster-wide lists of namespaced resources) can be read and tested in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.resources import Resource

# `/api/v1/namespaces/{name}/{sub}` addresses the namespace itself for these.
NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


def not_found() -> ApiError:
    """The reply for any path the server does not serve (no details, like the mux's 404)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


@dataclass(frozen=True)
class Discovery:
    """A discovery document: `/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`."""

    group: str | None = None  # None: the root (/api or /apis)
    version: str | None = None
    legacy: bool = True  # /api (core) versus /apis (named groups)


@dataclass(frozen=True)
class Target:
    """A resource request: the collection, one object, or one object's subresource."""

    resource: Resource
    namespace: str | None  # None: cluster-scoped, or a cluster-wide list of a namespaced kind
    name: str | None = None
    subresource: str | None = None
    watch_prefix: bool = False  # the deprecated /watch/ path form


def parse(path: str) -> Discovery | Target:
    """Parse an `/api` or `/apis` path; raises 404 for anything not served."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        raise not_found()
    if parts[0] == "api":
        if len(parts) == 1:
            return Discovery()
        group, version, rest = "", parts[1], parts[2:]
        if version != "v1":
            raise not_found()
        if not rest:
            return Discovery("", version)
    else:
        if len(parts) == 1:
            return Discovery(legacy=False)
        if len(parts) == 2:
            return Discovery(parts[1], legacy=False)
        group, version, rest = parts[1], parts[2], parts[3:]
        if not rest:
            return Discovery(group, version, legacy=False)
    return _resource_target(group, version, rest)


def _resource_target(group: str, version: str, rest: list[str]) -> Target:
    watch_prefix = rest[0] == "watch"
    if watch_prefix:
        rest = rest[1:]
        if not rest:
            raise not_found()
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise not_found()
    res = R.lookup(group, version, rest[0])
    if res is None:
        raise not_found()
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if res.namespaced:
        if namespace is None and name is not None:
            raise not_found()  # only collections of namespaced kinds are served cluster-wide
    elif namespace is not None:
        raise not_found()
    if sub is not None and sub not in res.subresources:
        raise not_found()
    return Target(res, namespace, name, sub, watch_prefix)


def group_versions() -> dict[str, list[str]]:
    """Served group -> versions (core group under ""), for discovery."""
    out: dict[str, list[str]] = {}
    for res in R.RESOURCES:
        versions = out.setdefault(res.group, [])
        if res.version not in versions:
            versions.append(res.version)
    # Not autoscaling/v1: kubectl finds Scale through the `statefulsets/scale` entry, and a
    # group-version with no resources makes discovery fail ("received empty response").
    return out
