"""Watch streams: chunked JSON lines, one event per line, written as soon as it happens.

Behaves like the apiserver's watch cache: resume from a resourceVersion (or start with ADDED
for everything when it is absent or "0"), an ERROR 410 event then close when the version has
been compacted away, BOOKMARKs only when the client allows them (every interval while idle
and 2 s before the deadline), and the stream ends at `timeoutSeconds`. The store-side
watcher is released however the stream ends, including a client hanging up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import web

from localkube.apimachinery.errors import ApiError, internal
from localkube.apiserver import printing, responses
from localkube.apiserver.context import ApiContext
from localkube.apiserver.negotiation import As, Output, negotiate, parse_bool, parse_int
from localkube.apiserver.routing import Target, method_not_allowed
from localkube.resources import Resource
from localkube.store import Watcher, WatchEvent

log = logging.getLogger("localkube.apiserver")

BOOKMARK = "BOOKMARK"
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class _Encoder:
    """Per-stream event encoding: stored bytes for plain JSON, otherwise a transform."""

    def __init__(self, res: Resource, output: Output, include: str) -> None:
        self.res, self.output, self.include = res, output, include
        self.plain = output.as_ is As.OBJECT and output.media_type == "application/json"

    def event(self, ev: WatchEvent) -> bytes:
        if self.plain and ev.raw is not None:
            return responses.watch_line(ev.type, ev.raw)
        rv = ev.obj.get("metadata", {}).get("resourceVersion", "")
        value = printing.transform_one(self.res, ev.obj, rv, self.output, self.include)
        return self.line(ev.type, value)

    def bookmark(self, rv: int, initial_end: bool = False) -> bytes:
        meta: dict = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        if self.output.as_ is As.TABLE:
            value: dict = {"kind": "Table", "apiVersion": f"meta.k8s.io/{self.output.meta_version}",
                           "metadata": meta, "columnDefinitions": [], "rows": []}
        else:
            value = {"kind": self.res.kind, "apiVersion": self.res.group_version, "metadata": meta}
        return self.line(BOOKMARK, value)

    @staticmethod
    def line(event_type: str, value: dict) -> bytes:
        # Watch lines are JSON whatever the Accept type (kubectl -o yaml decodes them as JSON).
        return responses.watch_line(event_type, json.dumps(value, separators=(",", ":")).encode())


async def serve(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    res, q = t.resource, request.query
    if "watch" not in res.verbs:
        raise method_not_allowed()
    output = negotiate(request.headers.get("Accept"), allow_transform=True)
    if output.as_ is As.PARTIAL_LIST:
        output = Output(output.media_type, As.PARTIAL, output.meta_version)
    encoder = _Encoder(res, output, printing.include_object(q.get("includeObject")))
    timeout = parse_int(q, "timeoutSeconds")
    bookmarks = parse_bool(q, "allowWatchBookmarks")
    send_initial = parse_bool(q, "sendInitialEvents")
    field_selector = q.get("fieldSelector")
    if t.name is not None:
        by_name = f"metadata.name={t.name}"
        field_selector = f"{field_selector},{by_name}" if field_selector else by_name
    rv = None if send_initial else q.get("resourceVersion")
    namespace = t.namespace if res.namespaced else None
    try:
        watcher = ctx.registry.watch(res, namespace, q.get("labelSelector"), field_selector, rv)
    except ApiError as err:
        if err.code != 410:
            raise
        resp = await _start(request)
        await resp.write(responses.watch_line("ERROR", json.dumps(err.status()).encode()))
        await resp.write_eof()
        return resp
    snapshot_rv = ctx.store.resource_version
    initial = watcher.queue.qsize() if (send_initial and bookmarks) else None
    limit = ctx.watch_timeout if timeout is None or timeout <= 0 else float(timeout)
    ctx.watchers[res.key] += 1
    resp = web.StreamResponse()
    try:
        resp = await _start(request)
        await _pump(ctx, resp, watcher, encoder, limit, bookmarks, (initial, snapshot_rv))
        await resp.write_eof()
    except ConnectionError:
        pass  # the client went away; nothing left to send
    except Exception as exc:
        if not resp.prepared:
            raise
        # Mid-stream, a Status reply is no longer possible: end with an ERROR event instead.
        log.exception("watch %s failed", request.path_qs)
        failure = internal(f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(ConnectionError):
            status = json.dumps(failure.status()).encode()
            await resp.write(responses.watch_line("ERROR", status))
            await resp.write_eof()
    finally:
        ctx.watchers[res.key] -= 1
        ctx.store.unwatch(watcher)
    return resp


async def _start(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(
        status=200,
        headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"},
    )
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    return resp


async def _pump(
    ctx: ApiContext,
    resp: web.StreamResponse,
    watcher: Watcher,
    encoder: _Encoder,
    limit: float,
    bookmarks: bool,
    initial_events: tuple[int | None, int],
) -> None:
    """Copy events from the watcher to the client until the deadline or a server close.

    `initial_events` is (number of initial ADDED events still to send, or None when no
    initial-events-end bookmark was asked for; the resourceVersion of that snapshot).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    next_bookmark = _next_bookmark(loop.time(), deadline, ctx.bookmark_interval, bookmarks)
    queue = watcher.queue
    initial, snapshot_rv = initial_events
    if initial == 0:
        await resp.write(encoder.bookmark(snapshot_rv, initial_end=True))
        initial = None
    while True:
        wake = deadline if next_bookmark is None else min(deadline, next_bookmark)
        if queue.empty():
            try:
                async with asyncio.timeout_at(wake):
                    ev = await queue.get()
            except TimeoutError:
                if loop.time() >= deadline:
                    return
                await resp.write(encoder.bookmark(ctx.store.resource_version))
                next_bookmark = _next_bookmark(
                    loop.time(), deadline, ctx.bookmark_interval, bookmarks
                )
                continue
        else:
            ev = queue.get_nowait()
        chunks: list[bytes] = []
        closed = False
        while ev is not None:
            chunks.append(encoder.event(ev))
            if initial is not None:
                initial -= 1
                if initial == 0:
                    chunks.append(encoder.bookmark(snapshot_rv, initial_end=True))
                    initial = None
            if queue.empty():
                break
            ev = queue.get_nowait()
        else:
            closed = True
        if chunks:
            await resp.write(b"".join(chunks))
        if closed or loop.time() >= deadline:
            return


def _next_bookmark(now: float, deadline: float, interval: float, allowed: bool) -> float | None:
    """Periodic heartbeat, but also 2 s before the deadline so clients keep their place."""
    if not allowed:
        return None
    when = min(now + interval, deadline - 2.0)
    return when if when > now else None
