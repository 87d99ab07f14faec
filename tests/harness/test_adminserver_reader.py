"""``harness.zk.adminserver`` on the wire and ``Servers``' choice of path, with the pod side
played by local servers replaying replies recorded from ZooKeeper 3.8.0.

The real AdminServer behind a real port-forward is exercised by the slow
``test_adminserver_live.py``; here the HTTP handling (status codes, an HTML error page,
a refused connection) and the routing by image profile run in the quick tier. The
replay servers are the seam, as the relay tests use a local echo server.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from harness.errors import AdminServerError, CommandNotAllowed, NotServing
from harness.model.quorum import UNREACHABLE
from harness.servers import Servers
from harness.zk import adminserver
from harness.zk.profile import get_profile

DATA = Path(__file__).parent / "data"
NPE_PAGE = (b"<html><head><title>Error 500 java.lang.NullPointerException: Cannot invoke "
            b"&quot;ZooKeeperServer.dumpMonitorValues&quot;</title></head></html>")


@dataclass
class Replay:
    """``GET /commands/<name>`` -> (status, body); what was asked, in order."""

    replies: dict[str, tuple[int, bytes]]
    asked: list[str]
    port: int = 0


@pytest.fixture
def admin() -> Iterator[Replay]:
    replay = Replay({}, [])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.removeprefix("/commands/")
            replay.asked.append(name)
            status, body = replay.replies.get(
                name, (200, b'{"command": "%s", "error": "Unknown command: %s"}'
                       % (name.encode(), name.encode())))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    replay.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield replay
    server.shutdown()
    server.server_close()


@pytest.fixture
def four_letter() -> Iterator[int]:
    """A client port that answers ``srvr`` as a 3.8 follower and refuses other words as
    the official image's default whitelist does."""
    server = socket.create_server(("127.0.0.1", 0))
    srvr = (DATA / "srvr-3.8-follower.txt").read_bytes()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                word = conn.recv(4).decode()
                conn.sendall(srvr if word == "srvr" else
                             f"{word} is not executed because it is not in the "
                             "whitelist.\n".encode())

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def recorded(name: str) -> tuple[int, bytes]:
    return 200, (DATA / name).read_bytes()


def test_commands_parse_into_the_four_letter_types(admin: Replay) -> None:
    admin.replies.update(srvr=recorded("admin-3.8-srvr-leader.json"),
                         mntr=recorded("admin-3.8-monitor-leader.json"),
                         ruok=recorded("admin-3.8-ruok-standalone.json"))
    where = ("127.0.0.1", admin.port)
    assert adminserver.srvr(where).mode == "leader"
    assert adminserver.mntr(where).synced_followers == 2
    assert adminserver.ruok(where) is True
    assert adminserver.server_mode(where) == "leader"
    assert admin.asked == ["srvr", "mntr", "ruok", "srvr"]


def test_not_serving_in_3_8_and_3_9(admin: Replay) -> None:
    body = (DATA / "admin-3.8-srvr-not-serving.json").read_bytes()
    where = ("127.0.0.1", admin.port)
    for status in (200, 503):  # 3.8 answers 200, 3.9 503, with the same JSON
        admin.replies["srvr"] = (status, body)
        admin.replies["ruok"] = (status, body.replace(b'"srvr"', b'"ruok"'))
        with pytest.raises(NotServing):
            adminserver.srvr(where)
        assert adminserver.server_mode(where) == "not-serving"
        assert adminserver.ruok(where) is False


def test_failures_name_the_address_and_the_command(admin: Replay) -> None:
    where = ("127.0.0.1", admin.port)
    admin.replies["mntr"] = (500, NPE_PAGE)  # 3.8.0's mntr while not serving
    with pytest.raises(AdminServerError, match=r"mntr: HTTP 500 .*not JSON"):
        adminserver.mntr(where)
    with pytest.raises(AdminServerError, match="Unknown command: nosuch"):
        adminserver.command(where, "nosuch")
    admin.replies["srvr"] = recorded("admin-3.8-monitor-leader.json")
    with pytest.raises(AdminServerError, match=f"127.0.0.1:{admin.port}: srvr: .*no server_stats"):
        adminserver.srvr(where)


def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(AdminServerError, match=f"127.0.0.1:{closed}: srvr"):
        adminserver.srvr(("127.0.0.1", closed), timeout=2.0)
    assert adminserver.server_mode(("127.0.0.1", closed), timeout=2.0) == UNREACHABLE


@dataclass
class LocalRelay:
    port: int

    def close(self) -> None:
        pass


class Ports:
    """A ``RelayFactory`` whose relays are the local replay servers, by pod port."""

    def __init__(self, by_port: dict[int, int]) -> None:
        self.by_port = by_port
        self.opened: list[tuple[str, int]] = []

    def relay(self, pod: str, port: int) -> LocalRelay:
        self.opened.append((pod, port))
        return LocalRelay(self.by_port[port])


def test_servers_read_mntr_from_the_adminserver_only_where_the_profile_says(
        admin: Replay, four_letter: int) -> None:
    admin.replies["mntr"] = recorded("admin-3.8-monitor-follower.json")
    official = get_profile("zookeeper")  # whitelists srvr only, runs the AdminServer
    cluster = Ports({2181: four_letter, 8080: admin.port})
    servers = Servers(cluster, ["zoo-0"], official, timeout=5.0)
    assert servers.modes() == {"zoo-0": "follower"}  # srvr: the four-letter word
    assert servers.mntr("zoo-0").server_state == "follower"  # mntr: the AdminServer
    assert cluster.opened == [("zoo-0", 2181), ("zoo-0", 8080)]
    assert admin.asked == ["mntr"]
    assert servers.via("mntr") == "AdminServer :8080/commands/mntr"
    assert servers.via("srvr") == "four-letter word srvr"

    without = Servers(cluster, ["zoo-0"], replace(official, admin_server=False), timeout=5.0)
    with pytest.raises(CommandNotAllowed):  # no AdminServer: the 4lw's honest refusal
        without.mntr("zoo-0")

    admin.replies["srvr"] = recorded("admin-3.8-srvr-leader.json")
    admin_only = replace(official, four_letter_words=("ruok",), admin_port=9090)
    cluster.by_port[9090] = admin.port
    servers = Servers(cluster, ["zoo-0"], admin_only, timeout=5.0)
    assert servers.modes() == {"zoo-0": "leader"}
    assert servers.srvr("zoo-0").mode == "leader"
    assert ("zoo-0", 9090) in cluster.opened
