"""Building HTTP replies: stored bytes on hot paths, `Status` bodies for every error.

The store keeps each object's JSON bytes, so a plain GET or LIST never re-encodes anything;
only the representations the client negotiated away from plain JSON pay for encoding.
"""

from __future__ import annotations

import json

from aiohttp import web

from localkube.apimachinery.errors import ApiError
from localkube.apiserver.negotiation import DEFAULT_OUTPUT, JSON, Output, encode


def raw(body: bytes, status: int = 200) -> web.Response:
    """Bytes that are already the JSON reply."""
    return web.Response(body=body, status=status, content_type=JSON)


def obj(value: object, output: Output = DEFAULT_OUTPUT, status: int = 200) -> web.Response:
    return web.Response(body=encode(value, output), status=status, content_type=output.media_type)


def status(err: ApiError) -> web.Response:
    """An error as a Kubernetes `Status`.

    No `Retry-After` header, ever: client-go silently retries requests that carry one, and
    drain must see eviction's 429 to print its own retry message.
    """
    return web.Response(body=json.dumps(err.status()).encode(), status=err.code, content_type=JSON)


def list_bytes(kind: str, api_version: str, meta: dict, items: list[bytes]) -> bytes:
    """`{"kind":"PodList",...,"items":[...]}` assembled from stored bytes (never null items)."""
    head = (
        f'{{"kind":"{kind}","apiVersion":"{api_version}","metadata":'
        f'{json.dumps(meta, separators=(",", ":"))},"items":['
    ).encode()
    return head + b",".join(items) + b"]}"


def watch_line(event_type: str, raw_object: bytes) -> bytes:
    return b'{"type":"' + event_type.encode() + b'","object":' + raw_object + b"}\n"
