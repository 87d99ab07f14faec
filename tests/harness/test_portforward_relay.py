"""The port-forward relay's own logic, with the pod side played by a local TCP server.

The real opener (``kube_opener``) speaks ``pods/portforward``; here an opener connects to
a local echo server instead, which is exactly the seam the relay was built around.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from harness.errors import ClusterError
from harness.kube.portforward import Relay, StreamSocket


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A TCP server that upper-cases what it receives, one thread per connection."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data.upper())

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def opener_to(
    port: int, opened: list[int]
) -> Callable[[], tuple[StreamSocket, Callable[[], None]]]:
    def open_stream() -> tuple[StreamSocket, Callable[[], None]]:
        sock = socket.create_connection(("127.0.0.1", port))
        opened.append(port)
        return sock, sock.close

    return open_stream


def exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(payload)
        client.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := client.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


def closed_without_data(port: int, payload: bytes) -> bool:
    """True when the relay ends the connection without sending a byte back.

    The relay may close before it reads what the client sent; the kernel then resets the
    connection instead of a clean FIN, which the client sees as an error on its next call.
    Both are "closed at once, no data".
    """
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        try:
            client.sendall(payload)
            client.shutdown(socket.SHUT_WR)
            return client.recv(4096) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except OSError as error:
            if error.errno == errno.ENOTCONN:
                return True
            raise


def test_bytes_flow_both_ways_one_stream_per_connection(echo_port: int) -> None:
    opened: list[int] = []
    with Relay(opener_to(echo_port, opened)) as relay:
        assert exchange(relay.port, b"ruok") == b"RUOK"
        big = bytes(range(97, 123)) * 20000  # 520 kB, several chunks each way
        assert exchange(relay.port, big) == big.upper()
    assert opened == [echo_port, echo_port]
    assert relay.connections == 2


def test_a_failed_stream_closes_only_that_connection(echo_port: int) -> None:
    attempts: list[int] = []

    def flaky() -> tuple[StreamSocket, Callable[[], None]]:
        attempts.append(1)
        if len(attempts) == 1:
            raise ClusterError("port-forward to default/zk-0:2181 failed: pod not running")
        return opener_to(echo_port, [])()

    with Relay(flaky) as relay:
        assert closed_without_data(relay.port, b"srvr")
        assert exchange(relay.port, b"srvr") == b"SRVR"  # the next connection works
    assert relay.errors == ["port-forward to default/zk-0:2181 failed: pod not running"]


def test_close_stops_listening(echo_port: int) -> None:
    relay = Relay(opener_to(echo_port, [])).start()
    port = relay.port
    relay.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
