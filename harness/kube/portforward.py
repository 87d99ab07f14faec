"""A local TCP relay to one pod's port through ``pods/portforward`` (``kubectl port-forward``).

``Relay`` listens on 127.0.0.1:<free port>; every accepted connection opens its own
port-forward stream to the pod (``kubernetes.stream.portforward``) and two threads copy
bytes both ways until either side closes. Because each connection opens a fresh stream *by
pod name*, a relay keeps working across pod restarts and re-creations: kazoo and the
four-letter words simply reconnect, as they would to a real server. The opener is
injectable so the relay itself is tested without a cluster.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward

from harness.errors import ClusterError
from harness.kube.transport import Transport, stream_failure

_LOG = logging.getLogger("harness.kube.portforward")
_CHUNK = 64 * 1024


class StreamSocket(Protocol):
    def recv(self, size: int) -> bytes: ...
    def sendall(self, data: bytes) -> Any: ...
    def shutdown(self, how: int) -> None: ...
    def close(self) -> None: ...


# Opens one stream to the pod's port: the socket to talk through, and what closes it all.
Opener = Callable[[], tuple[StreamSocket, Callable[[], None]]]


def kube_opener(transport: Transport, namespace: str, pod: str, port: int) -> Opener:
    """Open ``pods/portforward`` to ``pod:port`` (one WebSocket per connection)."""

    def open_stream() -> tuple[StreamSocket, Callable[[], None]]:
        with transport.stream_api() as core:
            try:
                forward = portforward(
                    core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port)
                )
            except ApiException as exc:
                raise ClusterError(
                    f"port-forward to {namespace}/{pod}:{port} failed: {stream_failure(exc)}"
                ) from exc
        return forward.socket(port), forward.close

    return open_stream


class Relay:
    """127.0.0.1:<port> -> the pod, one stream per accepted connection."""

    def __init__(self, opener: Opener, *, host: str = "127.0.0.1", name: str = "relay") -> None:
        self.opener = opener
        self.host = host
        self.name = name
        self.errors: list[str] = []
        self.connections = 0
        self._listener: socket.socket | None = None
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[Any] = set()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("relay not started")
        return int(self._listener.getsockname()[1])

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> Relay:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept_loop, name=f"{self.name} accept", daemon=True).start()
        return self

    def close(self) -> None:
        self._closed.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            live = list(self._open)
        for sock in live:
            _close(sock)

    def __enter__(self) -> Relay:
        return self if self._listener is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(
                target=self._serve, args=(conn,), name=f"{self.name} conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            remote, closer = self.opener()
        except Exception as exc:  # any failure to reach the pod ends this connection only
            self.errors.append(str(exc))
            _LOG.info("%s: %s", self.name, exc)
            _close(conn)
            return
        with self._lock:
            self._open.update((conn, remote))
        back = threading.Thread(
            target=_pump, args=(remote, conn), name=f"{self.name} pod->local", daemon=True
        )
        back.start()
        _pump(conn, remote)
        back.join()
        with self._lock:
            self._open.difference_update((conn, remote))
        _close(conn)
        with contextlib.suppress(Exception):
            closer()


def _pump(source: Any, target: Any) -> None:
    """Copy until ``source`` ends, then end ``target``'s direction too (and wake its reader)."""
    try:
        while True:
            data = source.recv(_CHUNK)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            source.shutdown(socket.SHUT_RD)


def _close(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def forward(transport: Transport, namespace: str, pod: str, port: int) -> Iterator[int]:
    """A relay to ``pod:port`` for the ``with`` body; yields the local port."""
    relay = Relay(kube_opener(transport, namespace, pod, port), name=f"pf {pod}:{port}")
    relay.start()
    try:
        yield relay.port
    finally:
        relay.close()
