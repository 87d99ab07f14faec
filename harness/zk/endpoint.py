"""Where one ZooKeeper server's client port is reachable from the harness."""

from __future__ import annotations

from typing import NamedTuple, TypeAlias


class Endpoint(NamedTuple):
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, value: str | tuple[str, int]) -> Endpoint:
        """``"127.0.0.1:2181"``, ``("127.0.0.1", 2181)`` or an Endpoint."""
        if isinstance(value, tuple):
            return cls(str(value[0]), int(value[1]))
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"expected host:port, got {value!r}")
        return cls(host, int(port))


EndpointLike: TypeAlias = Endpoint | str | tuple[str, int]
