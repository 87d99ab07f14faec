"""``kubectl logs POD [--tail N] [--previous]`` through ``pods/log``."""

from __future__ import annotations

from harness.kube.objects import POD
from harness.kube.transport import Transport, release


def read(
    transport: Transport,
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    tail: int | None = None,
    previous: bool = False,
) -> str:
    """The container's log text (stdout and stderr interleaved, as the kubelet keeps it)."""
    query: list[tuple[str, str | int | bool]] = []
    if container:
        query.append(("container", container))
    if tail is not None:
        query.append(("tailLines", tail))
    if previous:
        query.append(("previous", True))
    response = transport.open(
        "GET", POD.path(namespace, pod, "log"), query=query, accept="text/plain"
    )
    try:
        return response.data.decode("utf-8", errors="replace")
    finally:
        release(response)
