"""Sentinel znodes: write known values once, prove after every drill step that none was lost.

``write_sentinels`` creates ``/zkdrill/sentinels/<n>`` through one server with values unique
to the run (so data left by an earlier run cannot pass for today's). ``verify_sentinels``
opens a session to *each* server alone, ``sync``s, reads every sentinel and returns a
per-server report of missing or mismatched znodes and of servers it could not ask.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from kazoo.exceptions import KazooException, NodeExistsError, NoNodeError

from harness.errors import DrillFailure, ZkSessionError
from harness.zk.client import DEFAULT_CONNECT_TIMEOUT, session
from harness.zk.endpoint import Endpoint, EndpointLike

ROOT = "/zkdrill/sentinels"


@dataclass(frozen=True)
class Sentinel:
    path: str
    value: bytes


def make_sentinels(run_id: str, count: int = 3) -> tuple[Sentinel, ...]:
    """``/zkdrill/sentinels/0..count-1`` with values naming the run."""
    if count < 1:
        raise ValueError("at least one sentinel")
    return tuple(
        Sentinel(f"{ROOT}/{n}", f"zkdrill run {run_id} sentinel {n}".encode()) for n in range(count)
    )


def write_sentinels(
    endpoint: EndpointLike,
    sentinels: Iterable[Sentinel],
    *,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> None:
    """Create (or overwrite) every sentinel through this one server."""
    ep = Endpoint.parse(endpoint)
    with session(ep, timeout=timeout) as zk:
        try:
            zk.ensure_path(ROOT)
            for sentinel in sentinels:
                try:
                    zk.create(sentinel.path, sentinel.value)
                except NodeExistsError:
                    zk.set(sentinel.path, sentinel.value)
        except KazooException as exc:
            raise ZkSessionError(str(ep), f"writing sentinels failed: {_name(exc)}") from exc


@dataclass(frozen=True)
class Mismatch:
    path: str
    expected: bytes
    actual: bytes


@dataclass(frozen=True)
class ServerCheck:
    """What one server returned for the sentinels."""

    server: str
    endpoint: str
    missing: tuple[str, ...] = ()
    mismatched: tuple[Mismatch, ...] = ()
    error: str | None = None  # the server could not be asked at all

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing and not self.mismatched

    @property
    def data_intact(self) -> bool:
        """Nothing wrong in what it returned (an unreachable server has no wrong data)."""
        return not self.missing and not self.mismatched

    def describe(self) -> str:
        where = f"{self.server} ({self.endpoint})"
        if self.error is not None:
            return f"{where}: could not check: {self.error}"
        if self.ok:
            return f"{where}: all sentinels intact"
        problems = [f"missing {p}" for p in self.missing] + [
            f"{m.path} is {m.actual!r}, expected {m.expected!r}" for m in self.mismatched
        ]
        return f"{where}: " + "; ".join(problems)


@dataclass(frozen=True)
class SentinelReport:
    checks: tuple[ServerCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def summary(self) -> str:
        return "\n".join(check.describe() for check in self.checks)

    def assert_intact(self, *, allow_unreachable: Collection[str] = ()) -> None:
        """Raise ``DrillFailure`` unless every server has every sentinel.

        ``allow_unreachable`` names servers a step expects to be down (e.g. a pod kept
        Pending by a drain); wrong or missing data is never allowed.
        """
        bad = [
            c
            for c in self.checks
            if not c.data_intact or (c.error is not None and c.server not in allow_unreachable)
        ]
        if bad:
            raise DrillFailure("sentinel check failed:\n" + "\n".join(c.describe() for c in bad))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks]}


def verify_sentinels(
    servers: Mapping[str, EndpointLike],
    sentinels: Iterable[Sentinel],
    *,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> SentinelReport:
    """Read every sentinel on every server (concurrently), each after a ``sync``."""
    wanted = tuple(sentinels)
    if not servers:
        return SentinelReport(())
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        futures = [
            pool.submit(_check_server, name, Endpoint.parse(ep), wanted, timeout)
            for name, ep in servers.items()
        ]
        return SentinelReport(tuple(f.result() for f in futures))


def _check_server(
    name: str, ep: Endpoint, sentinels: tuple[Sentinel, ...], timeout: float
) -> ServerCheck:
    missing: list[str] = []
    mismatched: list[Mismatch] = []
    try:
        with session(ep, timeout=timeout) as zk:
            zk.sync(ROOT)
            for sentinel in sentinels:
                try:
                    data, _stat = zk.get(sentinel.path)
                except NoNodeError:
                    missing.append(sentinel.path)
                    continue
                if data != sentinel.value:
                    mismatched.append(Mismatch(sentinel.path, sentinel.value, data))
    except ZkSessionError as exc:
        return ServerCheck(name, str(ep), error=str(exc))
    except KazooException as exc:
        return ServerCheck(name, str(ep), error=_name(exc))
    return ServerCheck(name, str(ep), tuple(missing), tuple(mismatched))


def _name(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
