"""kazoo sessions to exactly one ZooKeeper server, with short timeouts, always closed.

One server per client on purpose: a drill asks "what does *this* server say", so kazoo must
not fail over to another host behind the harness's back. Reads that must reflect every
committed write go through ``synced_get`` (``sync`` makes a follower catch up with the leader
first).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from harness.errors import ZkSessionError
from harness.zk.endpoint import Endpoint, EndpointLike

DEFAULT_CONNECT_TIMEOUT = 10.0
# The tutorial's servers accept 4 s..40 s (--min/max_session_timeout); 10 s sits inside.
DEFAULT_SESSION_TIMEOUT = 10.0
_LOG = logging.getLogger("harness.zk.kazoo")


def make_client(
    endpoint: EndpointLike,
    *,
    session_timeout: float = DEFAULT_SESSION_TIMEOUT,
    read_only: bool = False,
) -> KazooClient:
    """An unstarted client bound to this one server; reconnects quickly while it lives."""
    ep = Endpoint.parse(endpoint)
    return KazooClient(
        hosts=str(ep),
        timeout=session_timeout,
        randomize_hosts=False,
        read_only=read_only,
        connection_retry={"max_tries": -1, "delay": 0.1, "backoff": 2, "max_delay": 1.0},
        logger=_LOG,
    )


@contextmanager
def session(
    endpoint: EndpointLike,
    *,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
    session_timeout: float = DEFAULT_SESSION_TIMEOUT,
    read_only: bool = False,
) -> Iterator[KazooClient]:
    """A started client for the ``with`` body; stopped and closed however the body ends.

    Raises ``ZkSessionError`` (naming ``host:port``) when no session opens within
    ``timeout`` seconds, e.g. the server is down or has no quorum. Errors inside the body
    are not translated: ``NoNodeError`` and friends mean something to the caller.
    """
    ep = Endpoint.parse(endpoint)
    client = make_client(ep, session_timeout=session_timeout, read_only=read_only)
    try:
        client.start(timeout=timeout)
    except (KazooTimeoutError, KazooException, OSError) as exc:
        _shutdown(client)
        raise ZkSessionError(str(ep), f"no session within {timeout:.1f}s ({exc})") from exc
    try:
        yield client
    finally:
        _shutdown(client)


def synced_get(client: KazooClient, path: str) -> bytes:
    """The znode's data as the leader has committed it (``sync`` first, then ``get``)."""
    client.sync(path)
    data, _stat = client.get(path)
    return data


def _shutdown(client: KazooClient) -> None:
    try:
        client.stop()
    finally:
        client.close()
