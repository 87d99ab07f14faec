"""The ZooKeeper AdminServer over HTTP: ``GET /commands/<name>`` answering JSON.

For images that whitelist few four-letter words (the official ``zookeeper`` image allows
only ``srvr``) but run the AdminServer (port 8080 by default), this is how ``mntr`` and
friends are read. Same results and errors as ``harness.zk.fourletter``: ``ServerStats``,
``Monitor`` (keys with the 4lw ``zk_`` prefix), ``NotServing`` without quorum, and
``AdminServerError`` (naming ``host:port``) for a wire failure, an HTTP error page or a
command the server refused. Stdlib ``http.client`` only: one connection per command.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from harness.errors import AdminServerError, NotServing
from harness.model import adminserver as model
from harness.model.fourletter import NOT_SERVING, Monitor, ServerStats
from harness.model.quorum import UNREACHABLE
from harness.zk import fourletter
from harness.zk.endpoint import Endpoint, EndpointLike

DEFAULT_PORT = 8080
DEFAULT_TIMEOUT = fourletter.DEFAULT_TIMEOUT
_T = TypeVar("_T")


def command(endpoint: EndpointLike, name: str, *,
            timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Run the AdminServer command ``name`` (``srvr``, ``mntr``: the four-letter words are
    its aliases); its JSON object.

    ``NotServing`` when the server has no quorum, ``AdminServerError`` for anything else
    that is not the command's answer.
    """
    ep = Endpoint.parse(endpoint)
    where = str(ep)
    conn = http.client.HTTPConnection(ep.host, ep.port, timeout=timeout)
    try:
        conn.request("GET", f"/commands/{name}", headers={"Accept": "application/json"})
        response = conn.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise AdminServerError(where, f"{name}: {reason}") from exc
    finally:
        conn.close()
    try:
        reply = model.parse_reply(body)
    except model.AdminServerParseError as exc:
        raise AdminServerError(
            where, f"{name}: HTTP {response.status} {response.reason}: {exc}") from exc
    refused = model.refusal(reply)
    if refused is not None:
        kind, message = refused
        if kind == NOT_SERVING:
            raise NotServing(where)
        raise AdminServerError(where, f"{name}: {message}")
    return reply


def ruok(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """True when ``ruok`` runs (3.8's AdminServer says not serving without quorum, unlike
    the 4lw, which answers ``imok`` whenever the process runs)."""
    try:
        command(endpoint, "ruok", timeout=timeout)
    except NotServing:
        return False
    return True


def srvr(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> ServerStats:
    return _parsed(endpoint, "srvr", model.srvr_from_json, timeout)


def stat(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> ServerStats:
    return _parsed(endpoint, "stat", model.srvr_from_json, timeout)


def mntr(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> Monitor:
    return _parsed(endpoint, "mntr", model.monitor_from_json, timeout)


def server_mode(endpoint: EndpointLike, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The ``srvr`` mode, or ``not-serving`` / ``unreachable`` instead of raising."""
    try:
        return srvr(endpoint, timeout=timeout).mode
    except NotServing:
        return NOT_SERVING
    except AdminServerError:
        return UNREACHABLE


def ensemble_modes(servers: Mapping[str, EndpointLike], *,
                   timeout: float = DEFAULT_TIMEOUT) -> dict[str, str]:
    """``server_mode`` of every server's AdminServer, asked concurrently."""
    return fourletter.ensemble_modes(servers, timeout=timeout, mode=server_mode)


def _parsed(endpoint: EndpointLike, word: str, parse: Callable[[dict[str, Any]], _T],
            timeout: float) -> _T:
    reply = command(endpoint, word, timeout=timeout)
    try:
        return parse(reply)
    except model.AdminServerParseError as exc:
        raise AdminServerError(str(Endpoint.parse(endpoint)), f"{word}: {exc}") from exc
