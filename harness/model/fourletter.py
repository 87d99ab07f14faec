"""Parse ZooKeeper four-letter-word replies: ``ruok``, ``srvr``, ``stat``, ``mntr`` (pure).

Formats as ZooKeeper 3.4 (the tutorial image) and 3.8 (Debian) print them::

    Zookeeper version: 3.8.0-..., built on 2024-12-29 17:54 UTC
    Latency min/avg/max: 0/0.0/0        (3.4 prints an integer average)
    Received: 2 / Sent: 1 / Connections: 1 / Outstanding: 0
    Zxid: 0x100000000
    Mode: follower                      leader | follower | standalone | observer | read-only
    Node count: 5
    Proposal sizes last/min/max: -1/-1/-1   (leader only, 3.5+)

``stat`` is ``srvr`` plus a ``Clients:`` block; ``mntr`` is ``zk_<key>\\t<value>`` lines.
A server without quorum answers every word but ``ruok`` with one line (``NOT_SERVING_TEXT``);
a word missing from ``4lw.commands.whitelist`` gets ``<word> is not executed because it is
not in the whitelist.``. ``refusal()`` recognises both so callers can raise the right error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

LEADER = "leader"
FOLLOWER = "follower"
STANDALONE = "standalone"
OBSERVER = "observer"
READ_ONLY = "read-only"

NOT_SERVING_TEXT = "This ZooKeeper instance is not currently serving requests"
NOT_ALLOWED_SUFFIX = "is not executed because it is not in the whitelist."

NOT_SERVING = "not-serving"
NOT_ALLOWED = "not-allowed"


class FourLetterParseError(ValueError):
    """The reply is not in the format the word produces."""


@dataclass(frozen=True)
class ServerStats:
    """A parsed ``srvr`` (or ``stat``) reply."""

    version: str
    mode: str
    zxid: int
    node_count: int
    latency_min: float
    latency_avg: float
    latency_max: float
    received: int
    sent: int
    connections: int
    outstanding: int
    proposal_sizes: tuple[int, int, int] | None = None  # leader only
    clients: tuple[str, ...] = ()  # stat only

    @property
    def epoch(self) -> int:
        """The leader epoch: high 32 bits of the zxid (a new leader increments it)."""
        return self.zxid >> 32

    @property
    def counter(self) -> int:
        """Transactions within the epoch: low 32 bits of the zxid."""
        return self.zxid & 0xFFFFFFFF


@dataclass(frozen=True)
class Monitor:
    """A parsed ``mntr`` reply: every ``zk_*`` key (prefix kept), typed int/float/str."""

    values: Mapping[str, int | float | str] = field(default_factory=dict)

    def get(self, key: str, default: int | float | str | None = None) -> int | float | str | None:
        """``get("znode_count")`` and ``get("zk_znode_count")`` are the same."""
        if not key.startswith("zk_"):
            key = "zk_" + key
        return self.values.get(key, default)

    def _int(self, key: str) -> int | None:
        value = self.get(key)
        return int(value) if isinstance(value, int | float) else None

    @property
    def version(self) -> str:
        return str(self.get("version", ""))

    @property
    def server_state(self) -> str:
        """leader | follower | standalone | observer | read-only."""
        return str(self.get("server_state", ""))

    @property
    def znode_count(self) -> int | None:
        return self._int("znode_count")

    @property
    def ephemerals_count(self) -> int | None:
        return self._int("ephemerals_count")

    @property
    def watch_count(self) -> int | None:
        return self._int("watch_count")

    @property
    def alive_connections(self) -> int | None:
        return self._int("num_alive_connections")

    @property
    def outstanding_requests(self) -> int | None:
        return self._int("outstanding_requests")

    @property
    def avg_latency(self) -> float | None:
        value = self.get("avg_latency")
        return float(value) if isinstance(value, int | float) else None

    @property
    def quorum_size(self) -> int | None:
        """Voting members configured (3.6+); None on older servers."""
        return self._int("quorum_size")

    @property
    def synced_followers(self) -> int | None:
        """Leader only: followers in sync with it."""
        return self._int("synced_followers")


def is_imok(reply: str) -> bool:
    """``ruok`` answered ``imok`` (the process runs; says nothing about quorum)."""
    return reply.strip() == "imok"


def refusal(reply: str) -> str | None:
    """``NOT_SERVING``, ``NOT_ALLOWED`` or None when the reply is a real answer."""
    text = reply.strip()
    if text.startswith(NOT_SERVING_TEXT):
        return NOT_SERVING
    if text.endswith(NOT_ALLOWED_SUFFIX):
        return NOT_ALLOWED
    return None


def parse_srvr(reply: str) -> ServerStats:
    """Parse ``srvr`` (also accepts ``stat``, keeping its client lines)."""
    fields: dict[str, str] = {}
    clients: list[str] = []
    in_clients = False
    for raw in reply.splitlines():
        line = raw.strip()
        if in_clients:
            if line:
                clients.append(line)
                continue
            in_clients = False
            continue
        if line == "Clients:":
            in_clients = True
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    _require(reply, fields, ("Zookeeper version", "Mode", "Zxid", "Node count"))
    try:
        lat_min, lat_avg, lat_max = _split_numbers(fields.get("Latency min/avg/max", "0/0/0"))
        proposal = fields.get("Proposal sizes last/min/max")
        sizes = _split_numbers(proposal) if proposal else None
        return ServerStats(
            version=fields["Zookeeper version"],
            mode=fields["Mode"],
            zxid=int(fields["Zxid"], 16),
            node_count=int(fields["Node count"]),
            latency_min=lat_min,
            latency_avg=lat_avg,
            latency_max=lat_max,
            received=int(fields.get("Received", 0)),
            sent=int(fields.get("Sent", 0)),
            connections=int(fields.get("Connections", 0)),
            outstanding=int(fields.get("Outstanding", 0)),
            proposal_sizes=None if sizes is None else (int(sizes[0]), int(sizes[1]), int(sizes[2])),
            clients=tuple(clients),
        )
    except ValueError as exc:
        raise FourLetterParseError(f"malformed srvr reply ({exc}): {_excerpt(reply)}") from exc


def parse_stat(reply: str) -> ServerStats:
    return parse_srvr(reply)


def parse_mntr(reply: str) -> Monitor:
    values: dict[str, int | float | str] = {}
    for line in reply.splitlines():
        key, sep, value = line.partition("\t")
        if not sep or not key.startswith("zk_"):
            continue
        values[key] = _typed(value.strip())
    if "zk_server_state" not in values:
        raise FourLetterParseError(f"not a mntr reply (no zk_server_state): {_excerpt(reply)}")
    return Monitor(MappingProxyType(values))


def _typed(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _split_numbers(text: str) -> tuple[float, float, float]:
    parts = [float(x) for x in text.split("/")]
    if len(parts) != 3:
        raise ValueError(f"expected min/avg/max, got {text!r}")
    return parts[0], parts[1], parts[2]


def _require(reply: str, fields: Mapping[str, str], keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in fields]
    if missing:
        raise FourLetterParseError(
            f"not a srvr reply (missing {', '.join(missing)}): {_excerpt(reply)}"
        )


def _excerpt(reply: str, limit: int = 120) -> str:
    text = reply.strip().replace("\n", "\\n")
    return repr(text if len(text) <= limit else text[:limit] + "...")
