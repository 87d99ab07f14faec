"""Four-letter words over TCP: ``ruok``, ``srvr``, ``stat``, ``mntr``, and a server's mode.

One connection per word, one timeout for connect + send + read-to-EOF. Failures raise a
``ZooKeeperError`` subclass naming ``host:port``: ``FourLetterWordError`` (wire failure or
unparseable reply), ``NotServing`` (no quorum), ``CommandNotAllowed`` (not whitelisted).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from harness.errors import CommandNotAllowed, FourLetterWordError, NotServing
from harness.model import fourletter as model
from harness.model.quorum import UNREACHABLE
from harness.zk.endpoint import Endpoint, EndpointLike

DEFAULT_TIMEOUT = 5.0
_T = TypeVar("_T")


def send_command(endpoint: EndpointLike, word: str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Send ``word`` and return the whole reply text."""
    if len(word) != 4 or not word.isalpha():
        raise ValueError(f"not a four-letter word: {word!r}")
    ep = Endpoint.parse(endpoint)
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    try:
        with socket.create_connection(ep, timeout=timeout) as sock:
            sock.sendall(word.encode("ascii"))
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no complete reply within {timeout:.1f}s")
                sock.settimeout(remaining)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise FourLetterWordError(str(ep), f"{word}: {reason}") from exc
    reply = b"".join(chunks).decode("utf-8", errors="replace")
    refused = model.refusal(reply)
    if refused == model.NOT_SERVING:
        raise NotServing(str(ep))
    if refused == model.NOT_ALLOWED:
        raise CommandNotAllowed(str(ep), word)
    return reply


def ruok(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """True when the server answers ``imok`` (process alive; quorum not implied)."""
    return model.is_imok(send_command(endpoint, "ruok", timeout=timeout))


def srvr(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> model.ServerStats:
    return _parsed(endpoint, "srvr", model.parse_srvr, timeout)


def stat(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> model.ServerStats:
    return _parsed(endpoint, "stat", model.parse_stat, timeout)


def mntr(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> model.Monitor:
    return _parsed(endpoint, "mntr", model.parse_mntr, timeout)


def server_mode(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The ``srvr`` mode, or ``not-serving`` / ``unreachable`` instead of raising.

    ``CommandNotAllowed`` still raises: a whitelist problem is configuration, not health.
    """
    try:
        return srvr(endpoint, timeout=timeout).mode
    except NotServing:
        return model.NOT_SERVING
    except FourLetterWordError:
        return UNREACHABLE


def ensemble_modes(
    servers: Mapping[str, EndpointLike], *, timeout: float = DEFAULT_TIMEOUT,
    mode: Callable[..., str] | None = None,
) -> dict[str, str]:
    """``server_mode`` of every server, asked concurrently; keys keep the given order.

    ``mode`` asks one server another way (``harness.zk.adminserver.server_mode``).
    Feed the result to ``harness.model.quorum.assess_ensemble``.
    """
    if not servers:
        return {}
    ask = server_mode if mode is None else mode
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        futures = {
            name: pool.submit(ask, ep, timeout=timeout) for name, ep in servers.items()
        }
        return {name: future.result() for name, future in futures.items()}


def _parsed(
    endpoint: EndpointLike,
    word: str,
    parse: Callable[[str], _T],
    timeout: float,
) -> _T:
    reply = send_command(endpoint, word, timeout=timeout)
    try:
        return parse(reply)
    except model.FourLetterParseError as exc:
        raise FourLetterWordError(str(Endpoint.parse(endpoint)), f"{word}: {exc}") from exc
