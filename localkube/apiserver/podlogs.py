"""`pods/log`: which container instance to read (the kubelet's rules) and the streaming.

The API server validates the options (422 `PodLogOptions "zk-0" is invalid: ...`); the
kubelet then picks the instance from the pod's container status, as its
`validateContainerLogStatus` does: `previous` needs `lastState.terminated`; a running
instance is read live; a terminated one (or the last one during a back-off) is read as
it is; a container that never ran is refused with `... is waiting to start: <reason>`.
Those refusals reach the client as 400 BadRequest with the kubelet's text. The body is
`text/plain`, streamed; with `follow` it ends when that instance has exited and its log
is drained.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from multidict import MultiMapping

from localkube.apimachinery import errors as E
from localkube.runtime import LogNotFoundError, LogOptions, follow_log, read_log
from localkube.runtime.logs import parse_rfc3339


@dataclass(frozen=True)
class LogQuery:
    follow: bool
    previous: bool
    options: LogOptions


def parse_query(query: MultiMapping[str], pod_name: str, flag: Callable[[str], bool]) -> LogQuery:
    """PodLogOptions from the query, validated like `ValidatePodLogOptions`."""
    tail = _int(query, "tailLines")
    since_seconds = _int(query, "sinceSeconds")
    limit = _int(query, "limitBytes")
    since_time = query.get("sinceTime") or None
    if since_time is not None:
        try:
            parse_rfc3339(since_time)
        except ValueError:
            raise E.bad_request(
                f'parsing time "{since_time}" as "2006-01-02T15:04:05Z07:00": cannot parse '
                f'"{since_time}" as RFC3339'
            ) from None
    causes = []
    if tail is not None and tail < 0:
        causes.append(E.field_invalid("tailLines", tail, "must be greater than or equal to 0"))
    if limit is not None and limit < 1:
        causes.append(E.field_invalid("limitBytes", limit, "must be greater than 0"))
    if since_seconds is not None and since_time is not None:
        causes.append(E.field_forbidden(
            "", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif since_seconds is not None and since_seconds < 1:
        causes.append(E.field_invalid("sinceSeconds", since_seconds, "must be greater than 0"))
    if causes:
        raise E.invalid("PodLogOptions", "", pod_name, causes)
    options = LogOptions(
        tail_lines=tail,
        timestamps=flag("timestamps"),
        since_seconds=since_seconds,
        since_time=since_time,
        limit_bytes=limit,
    )
    return LogQuery(follow=flag("follow"), previous=flag("previous"), options=options)


def _int(query: MultiMapping[str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise E.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


# -- which instance ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """The log file to serve and whether that instance may still write to it."""

    path: Path
    live: Callable[[], bool]


def _refuse(message: str) -> E.ApiError:
    return E.bad_request(message)


def _find_status(pod: Mapping[str, Any], container: str) -> dict | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == container:
                return cs
    return None


def _bare_id(container_id: str | None) -> str:
    return (container_id or "").rpartition("://")[2]


def _from_handle(handle: Any) -> dict:
    """A container status as the kubelet would post it, for a pod whose status lags."""
    if handle.container is None:
        return {"state": {"waiting": {"reason": handle.waiting_reason or "ContainerCreating"}}}
    key = "running" if handle.running else "terminated"
    return {"state": {key: {"containerID": handle.container_id or ""}}, "lastState": {}}


def choose_instance(pod: Mapping[str, Any], container: str, handle: Any,
                    previous: bool) -> Instance:
    """The instance `validateContainerLogStatus` picks, or its 400 refusal."""
    name = pod["metadata"]["name"]
    cs = _find_status(pod, container)
    if cs is None and handle is not None:
        cs = _from_handle(handle)
    if cs is None:
        raise _refuse(f'container "{container}" in pod "{name}" is not available')
    state = cs.get("state") or {}
    last = (cs.get("lastState") or {}).get("terminated") or {}
    waiting, running, terminated = state.get("waiting"), state.get("running"), \
        state.get("terminated")
    if previous:
        if not last.get("containerID"):
            raise _refuse(f'previous terminated container "{container}" in pod "{name}" '
                          "not found")
        target = last["containerID"]
    elif running is not None:
        target = cs.get("containerID") or running.get("containerID") or \
            (handle.container_id if handle is not None else "")
    elif terminated is not None:
        target = terminated.get("containerID") or last.get("containerID")
        if not target:
            raise _refuse(f'container "{container}" in pod "{name}" is terminated')
    elif last:
        target = last.get("containerID")
        if not target:
            raise _refuse(f'container "{container}" in pod "{name}" is terminated')
    elif waiting is not None:
        reason = waiting.get("reason", "")
        detail = {"ErrImagePull": "image can't be pulled",
                  "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
        raise _refuse(f'container "{container}" in pod "{name}" is waiting to start: {detail}')
    else:
        raise _refuse(f'container "{container}" in pod "{name}" is waiting to start - '
                      "no logs yet")
    return _instance_file(handle, target, container, name, previous)


def _instance_file(handle: Any, target: str, container: str, pod: str,
                   previous: bool) -> Instance:
    if handle is None:
        raise _refuse(f'container "{container}" in pod "{pod}" is not available')
    if _bare_id(target) == _bare_id(handle.container_id) and handle.log_path is not None:
        return Instance(handle.log_path, lambda: _still_writing(handle))
    if handle.previous_log_path is not None:
        return Instance(handle.previous_log_path, lambda: False)
    if previous:
        raise _refuse(f'previous terminated container "{container}" in pod "{pod}" not found')
    raise _refuse(f'container "{container}" in pod "{pod}" is not available')


def _still_writing(handle: Any) -> bool:
    """True until the instance has exited and its log file is complete."""
    container = handle.container
    if container is not None and hasattr(container, "log_finished"):
        return not container.log_finished()
    return bool(handle.running)


# -- the response --------------------------------------------------------------------------


async def serve(request: web.Request, instance: Instance, query: LogQuery) -> web.StreamResponse:
    """Stream the selected log as text/plain; a missing file is the kubelet's 400."""
    path = instance.path
    missing = _refuse(f'failed to try resolving symlinks in path "{path}": lstat {path}: '
                      "no such file or directory")
    first = b""
    if not query.follow:
        try:
            first = await asyncio.to_thread(read_log, path, query.options)
        except LogNotFoundError:
            raise missing from None
    elif not path.exists():
        raise missing
    response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    if first:
        await response.write(first)
    if query.follow:
        chunks = cast(AsyncGenerator[bytes, None],
                      follow_log(path, query.options, finished=lambda: not instance.live()))
        try:
            async for chunk in chunks:
                await response.write(chunk)
        except LogNotFoundError:
            pass  # rotated away between the check and the open: nothing to follow
        finally:
            await chunks.aclose()
    await response.write_eof()
    return response


async def empty(request: web.Request) -> web.StreamResponse:
    """An unscheduled pod has no logs yet: 200 with an empty body, as the apiserver does."""
    return web.Response(status=200, body=b"", headers={"Content-Type": "text/plain"})
