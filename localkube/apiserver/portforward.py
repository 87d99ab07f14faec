"""One `pods/portforward` session on an upgraded channel WebSocket (the kubelet's v4
protocol, which the Python client's `portforward()` speaks).

Port i of `?ports=` owns channel 2i (data, both ways) and 2i+1 (errors, to the client).
Right after the upgrade each of those channels carries the port as a little-endian
uint16 (the client checks it); then the kubelet/containerd path opens one TCP connection
per port to the pod's "localhost" — here the pod's own loopback address — and copies
bytes both ways. A connection that cannot be made is reported as text on the error
channel, which makes the client close that port only. The session ends when the client
leaves, or once every port's connection has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from localkube.apiserver.wsproto import ChannelSocket

CHUNK = 64 * 1024


@dataclass
class _Port:
    index: int
    port: int
    writer: asyncio.StreamWriter | None = None
    relay: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def data_channel(self) -> int:
        return 2 * self.index

    @property
    def error_channel(self) -> int:
        return 2 * self.index + 1


async def run(sock: ChannelSocket, pod_ip: str, ports: list[int], pod_id: str) -> None:
    """Forward `ports` of the pod at `pod_ip` over `sock` until either side is done."""
    streams = [_Port(i, port) for i, port in enumerate(ports)]
    for s in streams:
        prefix = s.port.to_bytes(2, "little")
        await sock.send(s.data_channel, prefix)
        await sock.send(s.error_channel, prefix)
    for s in streams:
        await _connect(sock, s, pod_ip, pod_id)
    relays = [s.relay for s in streams if s.relay is not None]
    inputs = asyncio.create_task(_client_input(sock, streams))
    try:
        if relays:  # with no connection at all the session is over at once
            waiters: set[asyncio.Future[Any]] = {inputs, asyncio.gather(*relays)}
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for s in streams:
            _close(s)
        for relay in relays:
            relay.cancel()
        await sock.close()
        inputs.cancel()
        await asyncio.gather(inputs, *relays, return_exceptions=True)


async def _connect(sock: ChannelSocket, s: _Port, pod_ip: str, pod_id: str) -> None:
    try:
        reader, writer = await asyncio.open_connection(pod_ip, s.port)
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)  # Go's wording
        message = (
            f"error forwarding port {s.port} to pod {pod_id}, uid : failed to connect to "
            f'localhost:{s.port} inside namespace "{pod_id}", IPv4: dial tcp4 '
            f"{pod_ip}:{s.port}: connect: {reason}"
        )
        await sock.send(s.error_channel, message.encode())
        return
    s.writer = writer
    s.relay = asyncio.create_task(_relay_out(sock, s, reader))


async def _relay_out(sock: ChannelSocket, s: _Port, reader: asyncio.StreamReader) -> None:
    """Pod → client, until the pod side closes or fails."""
    with contextlib.suppress(ConnectionError, OSError):
        while chunk := await reader.read(CHUNK):
            if not await sock.send(s.data_channel, chunk):
                return


async def _client_input(sock: ChannelSocket, streams: list[_Port]) -> None:
    """Client → pod; frames for error channels, unknown or dead ports are dropped."""
    by_channel = {s.data_channel: s for s in streams}
    async for frame in sock.frames():
        s = by_channel.get(frame.channel)
        if s is None or s.writer is None or frame.closed or not frame.data:
            continue
        try:
            s.writer.write(frame.data)
            await s.writer.drain()
        except (ConnectionError, OSError):
            _close(s)


def _close(s: _Port) -> None:
    if s.writer is not None:
        with contextlib.suppress(Exception):
            s.writer.close()
        s.writer = None
