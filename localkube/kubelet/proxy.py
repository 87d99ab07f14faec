"""A user-space kube-proxy: ClusterIP services reachable on their loopback virtual address.

For every Service whose `spec.clusterIP` is an address (not `None`), one TCP listener per
TCP service port is bound to `clusterIP:port` (a 127.x address from the service network).
Each accepted connection goes to the next *ready* endpoint of that port, round-robin, as
listed in the service's Endpoints object (`subsets[].addresses`, never `notReadyAddresses`);
a refused endpoint is skipped; with none left the client connection is closed, like
kube-proxy's REJECT rule. Listeners follow the Service (created, changed, deleted); `close()`
tears everything down at shutdown.

Bounded: one task per direction of each connection, reads of at most 64 KiB awaited with
`drain()` back-pressure; no polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable, Iterable
from functools import partial

from localkube import resources as R
from localkube.controllers.base import Controller
from localkube.registry import Registry
from localkube.store import Change

log = logging.getLogger("localkube.proxy")

CHUNK = 65536
CONNECT_TIMEOUT = 3.0

Key = tuple[str, str]


class ServiceProxy(Controller):
    """Keeps one listener per (Service, TCP port) and forwards connections to endpoints."""

    name = "service-proxy"
    watches = (R.SERVICES.key,)

    def __init__(self, registry: Registry) -> None:
        super().__init__(registry)
        #: (ns, service) -> {(ip, port): server}
        self._listeners: dict[Key, dict[tuple[str, int], asyncio.base_events.Server]] = {}
        self._rr: dict[tuple[str, str, int], int] = {}
        self._conns: set[asyncio.Task[None]] = set()
        self._closed = False

    def keys_for(self, change: Change) -> Iterable[Key]:
        meta = change.obj["metadata"]
        return [(meta.get("namespace", ""), meta["name"])]

    def initial_keys(self) -> Iterable[Key]:
        return [(o["metadata"]["namespace"], o["metadata"]["name"])
                for o, _ in self.store.scan(R.SERVICES.key)]

    async def reconcile(self, key: Hashable) -> float | None:
        if self._closed:
            return None
        assert isinstance(key, tuple)
        svc = self.store.peek(R.SERVICES.key, *key)
        wanted = _wanted(svc) if svc is not None else set()
        current = self._listeners.setdefault(key, {})
        for addr in [a for a in current if a not in wanted]:
            current.pop(addr).close()
        for ip, port in sorted(wanted - set(current)):
            try:
                current[(ip, port)] = await asyncio.start_server(
                    partial(self._accept, key, port), ip, port, reuse_address=True)
            except OSError as exc:
                log.warning("service %s/%s: cannot listen on %s:%d: %s", *key, ip, port, exc)
                return 5.0
        if not current:
            self._listeners.pop(key, None)
        return None

    # -- forwarding ----------------------------------------------------------------------
    def _accept(self, key: Key, port: int, reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(key, port, reader, writer))
        self._conns.add(task)
        task.add_done_callback(self._conns.discard)

    async def _serve(self, key: Key, port: int, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        try:
            upstream = await self._connect(key, port)
            if upstream is None:
                return
            up_reader, up_writer = upstream
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.close()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _connect(self, key: Key, port: int) -> tuple[asyncio.StreamReader,
                                                            asyncio.StreamWriter] | None:
        targets = self.endpoints_for(key, port)
        if not targets:
            return None
        rr_key = (*key, port)
        start = self._rr.get(rr_key, 0)
        self._rr[rr_key] = start + 1
        for i in range(len(targets)):
            ip, target_port = targets[(start + i) % len(targets)]
            try:
                return await asyncio.wait_for(asyncio.open_connection(ip, target_port),
                                              CONNECT_TIMEOUT)
            except (OSError, TimeoutError):
                continue
        return None

    def endpoints_for(self, key: Key, port: int) -> list[tuple[str, int]]:
        """Ready (ip, port) targets of a service port, in Endpoints order."""
        svc = self.store.peek(R.SERVICES.key, *key)
        eps = self.store.peek(R.ENDPOINTS.key, *key)
        if svc is None or eps is None:
            return []
        spec_port = next((p for p in (svc.get("spec") or {}).get("ports") or []
                          if p.get("port") == port), None)
        if spec_port is None:
            return []
        name = spec_port.get("name") or ""
        out = []
        for subset in eps.get("subsets") or []:
            target = next((p.get("port") for p in subset.get("ports") or []
                           if (p.get("name") or "") == name
                           and p.get("protocol", "TCP") == "TCP"), None)
            if target is None:
                continue
            out += [(a["ip"], int(target)) for a in subset.get("addresses") or [] if a.get("ip")]
        return out

    async def close(self) -> None:
        """Stop listening and drop open connections (shutdown)."""
        self._closed = True
        for servers in self._listeners.values():
            for server in servers.values():
                server.close()
        self._listeners.clear()
        for task in list(self._conns):
            task.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)


def _wanted(svc: dict) -> set[tuple[str, int]]:
    spec = svc.get("spec") or {}
    ip = spec.get("clusterIP")
    if not ip or ip == "None":
        return set()
    return {(ip, int(p["port"])) for p in spec.get("ports") or []
            if p.get("protocol", "TCP") == "TCP" and isinstance(p.get("port"), int)}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        if writer.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                writer.write_eof()
