"""`ApiError` constructors that take a `Resource`, so messages name it as kube-apiserver does."""

from __future__ import annotations

from localkube.apimachinery import errors as E
from localkube.apimachinery.errors import ApiError, bad_request, gone, unsupported_media_type
from localkube.resources import Resource


def not_found(res: Resource, name: str) -> ApiError:
    return E.not_found(res.key, name)


def already_exists(res: Resource, name: str) -> ApiError:
    return E.already_exists(res.key, name)


def conflict(res: Resource, name: str, msg: str) -> ApiError:
    return E.conflict(res.key, name, msg)


def invalid(res: Resource, name: str, causes: list[dict]) -> ApiError:
    return E.invalid(res.kind, res.group, name, causes)


def forbidden(res: Resource | None, name: str, msg: str) -> ApiError:
    return E.forbidden(res.key if res else "", name, msg)


def success_status(res: Resource, obj: dict) -> dict:
    meta = obj.get("metadata", {})
    details = {"name": meta.get("name", ""), "kind": res.plural, "uid": meta.get("uid", "")}
    if res.group:
        details["group"] = res.group
    return E.success_status(None, details)


__all__ = ["ApiError", "already_exists", "bad_request", "conflict", "forbidden", "gone",
           "invalid", "not_found", "success_status", "unsupported_media_type"]
