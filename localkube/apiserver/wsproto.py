"""The channel framing of Kubernetes' WebSocket streaming subprotocols.

Every message carries one stream: a channel byte, then the payload. The subprotocol
decides the rest (apimachinery's `wsstream` and the kubelet/apiserver stream servers):

- `v5.channel.k8s.io` (kubectl ≥ 1.30, Python client ≥ 32 offers it first): binary, a
  Status JSON on channel 3, and client→server `[255, ch]` half-closes stream `ch`;
- `v4.channel.k8s.io`: binary, Status JSON on channel 3 (the Python client's fallback,
  and the only one the kubelet's port-forward speaks besides base64);
- `v4.base64.channel.k8s.io`, `base64.channel.k8s.io`: text frames, channel as an ASCII
  digit, payload base64 (browsers);
- `channel.k8s.io` or no subprotocol at all: binary, and channel 3 carries only the error
  *message* text, nothing on success (remotecommand v1-v3 semantics).

Clients may send TEXT frames too (the Python client writes `str` stdin as text, the
channel as the first character), so the reader accepts both opcodes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from aiohttp import WSMsgType, web

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE_STREAM = 255

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
V1_BASE64 = "base64.channel.k8s.io"
NO_PROTOCOL = ""


@dataclass(frozen=True)
class Subprotocol:
    """What a negotiated subprotocol changes on the wire."""

    name: str
    base64: bool = False
    json_status: bool = True  # v4+: channel 3 carries a metav1.Status as JSON
    stream_close: bool = False  # v5: [255, ch] closes one stream


KNOWN = {
    p.name: p
    for p in (
        Subprotocol(V5, stream_close=True),
        Subprotocol(V4),
        Subprotocol(V4_BASE64, base64=True),
        Subprotocol(V1, json_status=False),
        Subprotocol(V1_BASE64, base64=True, json_status=False),
        Subprotocol(NO_PROTOCOL, json_status=False),
    )
}
# exec/attach: kube-apiserver translates v5 itself and proxies the rest to the kubelet.
EXEC_PROTOCOLS = (V5, V4, V4_BASE64, V1, V1_BASE64, NO_PROTOCOL)
# port-forward: the kubelet's websocket server (v5 is remotecommand-only).
PORTFORWARD_PROTOCOLS = (V4, V4_BASE64, NO_PROTOCOL)


def offered_protocols(request: web.BaseRequest) -> list[str]:
    """The client's `Sec-WebSocket-Protocol` list, in its order of preference."""
    out: list[str] = []
    for header in request.headers.getall("Sec-WebSocket-Protocol", []):
        out.extend(p.strip() for p in header.split(",") if p.strip())
    return out


def choose(
    offered: list[str], supported: Iterable[str], preferred: str | None = None
) -> Subprotocol | None:
    """The subprotocol to echo, or None when none fits (the server then answers 403).

    `preferred` wins whenever it is offered, as kube-apiserver takes any request offering
    v5 into its stream translator; otherwise the client's order decides, as wsstream does.
    """
    allowed = tuple(supported)
    if preferred is not None and preferred in offered and preferred in allowed:
        return KNOWN[preferred]
    for name in offered or [NO_PROTOCOL]:
        if name in allowed:
            return KNOWN[name]
    return None


def is_websocket(request: web.BaseRequest) -> bool:
    """`Upgrade: websocket` with `Connection: upgrade` (wsstream.IsWebSocketRequest)."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return False
    tokens = [t.strip().lower() for t in request.headers.get("Connection", "").split(",")]
    return "upgrade" in tokens


@dataclass(frozen=True)
class Frame:
    """One client message: data for `channel`, or (`closed`) that stream's end."""

    channel: int
    data: bytes = b""
    closed: bool = False


def decode(proto: Subprotocol, message: bytes) -> Frame | None:
    """A client message as a frame; None for empty or undecodable messages."""
    if not message:
        return None
    if proto.stream_close and message[0] == CLOSE_STREAM:
        return Frame(message[1], closed=True) if len(message) == 2 else None
    channel = message[0] - ord("0") if proto.base64 else message[0]
    payload = message[1:]
    if proto.base64:
        try:
            payload = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return None
    return Frame(channel, payload)


class ChannelSocket:
    """An upgraded WebSocket speaking one negotiated channel subprotocol."""

    def __init__(self, ws: web.WebSocketResponse, proto: Subprotocol) -> None:
        self.ws = ws
        self.proto = proto
        self._send_lock = asyncio.Lock()

    @classmethod
    async def accept(cls, request: web.Request, proto: Subprotocol) -> ChannelSocket:
        """Complete the upgrade, echoing exactly the chosen subprotocol (none for "")."""
        ws = web.WebSocketResponse(
            protocols=(proto.name,) if proto.name else (),
            autoping=True,  # answer client-go's 5 s heartbeat pings
            compress=False,
            max_msg_size=16 * 1024 * 1024,
            decode_text=False,
        )
        await ws.prepare(request)
        return cls(ws, proto)

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, channel: int, data: bytes = b"") -> bool:
        """Write one message on `channel`; False once the connection is gone."""
        if self.ws.closed:
            return False
        try:
            async with self._send_lock:
                if self.proto.base64:
                    text = chr(ord("0") + channel) + base64.b64encode(data).decode()
                    await self.ws.send_str(text)
                else:
                    await self.ws.send_bytes(bytes((channel,)) + data)
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def frames(self) -> AsyncIterator[Frame]:
        """Client frames until the client closes; pings are answered by aiohttp."""
        while not self.ws.closed:
            try:
                msg = await self.ws.receive()
            except (ConnectionError, RuntimeError):
                return
            if msg.type in (WSMsgType.BINARY, WSMsgType.TEXT):
                data = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
                frame = decode(self.proto, data)
                if frame is not None:
                    yield frame
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED,
                              WSMsgType.ERROR):
                return

    async def close(self) -> None:
        """Normal closure (1000); waits briefly for the client's close reply."""
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.close(code=1000)
