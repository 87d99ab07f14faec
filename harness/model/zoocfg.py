"""Parse zoo.cfg text (or the ``conf`` four-letter word's reply) into values and servers.

Pure, no I/O. zoo.cfg is a Java properties file: ``key=value`` (``key: value`` also
accepted), ``#``/``!`` comments, whitespace around keys and values ignored (the tutorial's
file has ``minSessionTimeout= 4000``), the last duplicate wins. ``server.N`` entries are
``host:quorumPort:electionPort[:participant|observer][;[clientAddress:]clientPort]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class ServerEntry:
    id: int
    host: str
    quorum_port: int
    election_port: int
    role: str = "participant"
    client_port: int | None = None

    def line(self) -> str:
        """The tutorial's form, ``server.1=zk-0.zk-hs.default.svc.cluster.local:2888:3888``."""
        return f"server.{self.id}={self.host}:{self.quorum_port}:{self.election_port}"


@dataclass(frozen=True)
class ZooConfig:
    values: Mapping[str, str]  # every non-server key, e.g. {"tickTime": "2000"}
    servers: tuple[ServerEntry, ...]  # sorted by id

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def server_lines(self) -> list[str]:
        return [s.line() for s in self.servers]


def parse_zoo_cfg(text: str) -> ZooConfig:
    values: dict[str, str] = {}
    servers: dict[int, ServerEntry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key, value = _split(line)
        if key.startswith("server.") and key[len("server.") :].isdigit():
            server_id = int(key[len("server.") :])
            try:
                servers[server_id] = _server(server_id, value)
            except ValueError as exc:
                raise ValueError(f"zoo.cfg line {number}: {exc}: {raw!r}") from exc
        else:
            values[key] = value
    return ZooConfig(
        values=MappingProxyType(values),
        servers=tuple(servers[i] for i in sorted(servers)),
    )


def _split(line: str) -> tuple[str, str]:
    for sep in ("=", ":"):
        if sep in line:
            key, _, value = line.partition(sep)
            return key.strip(), value.strip()
    return line, ""


def _server(server_id: int, value: str) -> ServerEntry:
    address, _, client = value.partition(";")
    parts = address.split(":")
    if len(parts) not in (3, 4):
        raise ValueError("expected host:quorumPort:electionPort[:role]")
    role = parts[3] if len(parts) == 4 else "participant"
    client_port = int(client.rsplit(":", 1)[-1]) if client.strip() else None
    return ServerEntry(server_id, parts[0], int(parts[1]), int(parts[2]), role, client_port)
