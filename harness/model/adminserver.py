"""Parse ZooKeeper AdminServer replies (``GET /commands/<name>``, JSON) into the types the
four-letter-word path produces (pure).

The AdminServer knows each command by the four-letter word too (``/commands/srvr``,
``/commands/mntr``) and answers with one JSON object carrying ``command`` (the primary
name: ``server_stats`` for srvr, ``monitor`` for mntr) and ``error`` (null, or why it did
not run). A server without quorum answers ``error: "This ZooKeeper instance is
not currently serving requests"`` (HTTP 200 in 3.8, 503 in 3.9) to commands that need a
running server; an unknown name gets ``error: "Unknown command: <name>"``.

- ``srvr``/``stat`` -> ``ServerStats``: ``version``, ``node_count`` and the nested
  ``server_stats`` (``server_state``, ``last_processed_zxid`` as a decimal number,
  ``min/avg/max_latency``, ``packets_received/sent``, ``num_alive_client_connections``,
  ``outstanding_requests``); a leader adds ``proposal_stats`` (last/min/max_buffer_size).
- ``mntr`` (alias ``monitor``) -> ``Monitor``: a flat object whose keys are the 4lw names
  without ``zk_`` (``server_state``, ``synced_followers``); here they get the prefix back,
  so callers read ``zk_synced_followers`` whichever way the server was asked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from harness.model.fourletter import (
    NOT_SERVING,
    NOT_SERVING_TEXT,
    FourLetterParseError,
    Monitor,
    ServerStats,
)

UNKNOWN_PREFIX = "Unknown command:"
UNKNOWN = "unknown-command"
_ENVELOPE = ("command", "error")


class AdminServerParseError(FourLetterParseError):
    """The reply is not the JSON object the command produces."""


def parse_reply(body: str | bytes) -> dict[str, Any]:
    """The JSON object of one reply; an HTML error page or other text is a parse error."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise AdminServerParseError(f"not JSON ({exc}): {_excerpt(body)}") from None
    if not isinstance(data, dict):
        raise AdminServerParseError(f"not a JSON object: {_excerpt(body)}")
    return data


def refusal(reply: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(NOT_SERVING | UNKNOWN | "error", message)`` when the command did not run, else None."""
    error = reply.get("error")
    if error is None:
        return None
    text = str(error)
    if text.startswith(NOT_SERVING_TEXT):
        return NOT_SERVING, text
    if text.startswith(UNKNOWN_PREFIX):
        return UNKNOWN, text
    return "error", text


def srvr_from_json(reply: Mapping[str, Any]) -> ServerStats:
    """``ServerStats`` from the JSON of ``srvr`` (or ``stat``: its client list is not kept,
    the AdminServer gives connection objects, not the 4lw's text lines)."""
    stats = reply.get("server_stats")
    if not isinstance(stats, Mapping):
        raise AdminServerParseError(f"not a srvr reply (no server_stats): {_excerpt(reply)}")
    missing = [k for k in ("version", "node_count") if k not in reply]
    missing += [f"server_stats.{k}" for k in ("server_state", "last_processed_zxid")
                if k not in stats]
    if missing:
        raise AdminServerParseError(
            f"not a srvr reply (missing {', '.join(missing)}): {_excerpt(reply)}")
    proposal = reply.get("proposal_stats")
    try:
        sizes = None if not isinstance(proposal, Mapping) else tuple(
            int(proposal[k]) for k in ("last_buffer_size", "min_buffer_size", "max_buffer_size"))
        return ServerStats(
            version=str(reply["version"]),
            mode=str(stats["server_state"]),
            zxid=int(stats["last_processed_zxid"]),
            node_count=int(reply["node_count"]),
            latency_min=float(stats.get("min_latency", 0)),
            latency_avg=float(stats.get("avg_latency", 0)),
            latency_max=float(stats.get("max_latency", 0)),
            received=int(stats.get("packets_received", 0)),
            sent=int(stats.get("packets_sent", 0)),
            connections=int(stats.get("num_alive_client_connections", 0)),
            outstanding=int(stats.get("outstanding_requests", 0)),
            proposal_sizes=None if sizes is None else (sizes[0], sizes[1], sizes[2]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AdminServerParseError(f"malformed srvr reply ({exc!r}): {_excerpt(reply)}") from exc


def monitor_from_json(reply: Mapping[str, Any]) -> Monitor:
    """``Monitor`` from the JSON of ``mntr``/``monitor``: each scalar key as ``zk_<key>``
    (booleans and nested values, which the 4lw output never has, are left out)."""
    values: dict[str, int | float | str] = {}
    for key, value in reply.items():
        if key in _ENVELOPE or isinstance(value, bool):
            continue
        if isinstance(value, int | float | str):
            values[key if key.startswith("zk_") else f"zk_{key}"] = value
    if "zk_server_state" not in values:
        raise AdminServerParseError(
            f"not a mntr reply (no server_state): {_excerpt(reply)}")
    return Monitor(MappingProxyType(values))


def _excerpt(reply: object, limit: int = 120) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", errors="replace")
    text = reply if isinstance(reply, str) else json.dumps(reply, default=str)
    text = text.strip().replace("\n", "\\n")
    return repr(text if len(text) <= limit else text[:limit] + "...")
