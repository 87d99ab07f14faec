"""PATCH request dispatch: decode the body and apply it by ``Content-Type``."""

from __future__ import annotations

import json
from typing import Any

from localkube.apimachinery.errors import bad_request, unsupported_media_type
from localkube.apimachinery.meta import deep_copy
from localkube.apimachinery.patching.apply import apply_patch
from localkube.apimachinery.patching.common import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    PATCH_CONTENT_TYPES,
    STRATEGIC_MERGE_PATCH,
    _rejected,
)
from localkube.apimachinery.patching.jsonpatch import json_patch
from localkube.apimachinery.patching.mergepatch import json_merge_patch
from localkube.apimachinery.patching.strategic import strategic_merge


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
