"""pods/portforward over WebSocket (v4.channel.k8s.io) with the official Python client,
to TCP servers running in a real container; only the streaming handlers are mounted."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator

import pytest
import websocket as ws_client
from kubernetes.stream import portforward

from tests.localkube import streamkit
from tests.localkube.streamkit import StreamingServer, listening, wait_until, websocket

pytestmark = pytest.mark.slow
ECHO = ["python3", "-c", """
import socket, threading
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", 7000))
server.listen()
def echo(conn):
    while data := conn.recv(65536):
        conn.sendall(data)
    conn.close()
while True:
    conn, _ = server.accept()
    threading.Thread(target=echo, args=(conn,), daemon=True).start()
"""]
WEB = ["nginx", "-g", "daemon off;"]
PF = "/api/v1/namespaces/default/pods/{pod}/portforward"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamingServer]:
    with streamkit.serving(tmp_path_factory.mktemp("pf"), mount="handlers") as srv:
        state = srv.call(srv.add_pod("duo", [("echo", ECHO), ("web", WEB)]))
        srv.call(srv.add_pod("waiting", [("main", ["true"])], start=False))
        wait_until(lambda: listening(state.sandbox.ip, 7000), "the echo server in the pod")
        wait_until(lambda: listening(state.sandbox.ip, 80), "the web server in the pod")
        yield srv


def _forward(server: StreamingServer, ports: str):
    return portforward(server.api().connect_get_namespaced_pod_portforward, "duo", "default",
                       ports=ports)


def _exchange(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        assert chunk, "the forwarded connection closed early"
        received += chunk
    return received


def test_two_ports_in_one_session(server: StreamingServer) -> None:
    pf = _forward(server, "7000,80")
    try:
        echo = pf.socket(7000)
        assert _exchange(echo, b"hello through the tunnel") == b"hello through the tunnel"
        big = os.urandom(1 << 20)
        assert _exchange(echo, big) == big
        reply = _http_get(pf.socket(80))
        assert reply.startswith(b"HTTP/1.0 200") and b"nginx" in reply
        assert pf.error(7000) is None
    finally:
        pf.close()


def test_the_session_ends_when_the_pod_closes_its_only_connection(
        server: StreamingServer) -> None:
    pf = _forward(server, "80")
    web = pf.socket(80)
    web.sendall(b"GET / HTTP/1.0\r\nHost: duo\r\n\r\n")
    reply = b""
    while chunk := web.recv(65536):  # HTTP/1.0: the server closes when done
        reply += chunk
    assert reply.startswith(b"HTTP/1.0 200")
    wait_until(lambda: not pf.connected, "the WebSocket to close")


def _http_get(sock: socket.socket) -> bytes:
    """One HTTP/1.0 exchange read by Content-Length: with several ports in a session, a
    connection the pod closes is not signalled to the client (nor is it by the kubelet)."""
    sock.sendall(b"GET / HTTP/1.0\r\nHost: duo\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(65536)
    head, _, body = reply.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return reply


def test_a_refused_port_reports_on_its_error_channel_only(server: StreamingServer) -> None:
    pf = _forward(server, "7000,7001")
    try:
        assert pf.socket(7001).recv(1) == b""  # the client closes the port on an error
        error = pf.error(7001)
        assert error is not None and error.startswith("error forwarding port 7001 to pod ")
        assert error.endswith("connect: connection refused")
        assert _exchange(pf.socket(7000), b"still there") == b"still there"
    finally:
        pf.close()


def test_closing_one_session_leaves_the_others_alone(server: StreamingServer) -> None:
    first, second = _forward(server, "7000"), _forward(server, "7000")
    try:
        assert _exchange(first.socket(7000), b"one") == b"one"
        assert _exchange(second.socket(7000), b"two") == b"two"
        first.close()
        wait_until(lambda: not first.connected, "the first session to end")
        assert _exchange(second.socket(7000), b"two again") == b"two again"
    finally:
        second.close()


def test_wire_format_port_prefixes_then_data(server: StreamingServer) -> None:
    sock = websocket(server, PF.format(pod="duo") + "?ports=7000", ["v5.channel.k8s.io",
                                                                     "v4.channel.k8s.io"])
    assert sock.getsubprotocol() == "v4.channel.k8s.io"  # v5 is remotecommand-only
    first = [sock.recv_data_frame(True)[1].data for _ in range(2)]
    assert first == [b"\x00\x58\x1b", b"\x01\x58\x1b"]  # 7000 = 0x1b58, little-endian
    sock.send_binary(b"\x00abc")
    assert sock.recv_data_frame(True)[1].data == b"\x00abc"
    sock.close()


def test_errors_before_the_upgrade(server: StreamingServer) -> None:
    cases = [("missing", "?ports=7000", 404, 'pods "missing" not found'),
             ("duo", "", 400, 'query parameter "port" is required'),
             ("waiting", "?ports=7000", 500, 'pod not found ("waiting_default")')]
    for pod, query, code, message in cases:
        with pytest.raises(ws_client.WebSocketBadStatusException) as info:
            websocket(server, PF.format(pod=pod) + query, ["v4.channel.k8s.io"])
        assert info.value.status_code == code
        body = (info.value.resp_body or b"").decode()
        assert (json.loads(body)["message"] if code != 500 else body) == message
