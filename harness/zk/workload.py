"""The workload: clients that keep writing through a drill, and every operation in a ledger.

Why: "the quorum held" and "nothing was lost" are claims about writes. One client is pinned
to each server (as a drill asks "what does *this* server do") and one ``app`` client has the
full connection string (as applications use it, failing over). Each alternates a sequential
``create`` under its own directory with a compare-and-set on one shared register
(``set(path, value, version=v)`` after reading ``v``). Every operation goes in a
``harness.model.ledger.Ledger``: ok, fail (definite: BadVersion, NoNode...), or info
(timeout, connection loss: it may or may not have happened). Values are unique per drill.

``snapshot`` reads, on every serving server after ``sync``, what the workload wrote, so a
step can check that every acknowledged write is there and the servers agree.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    ConnectionLoss,
    KazooException,
    NoNodeError,
    OperationTimeoutError,
    SessionExpiredError,
)
from kazoo.handlers.threading import KazooTimeoutError

from harness.errors import ZkSessionError
from harness.model.ledger import FAIL, INFO, OK, Ledger
from harness.zk.client import session
from harness.zk.endpoint import Endpoint

ROOT = "/zkdrill/work"
APP = "app"
_LOG = logging.getLogger("harness.zk.workload")
# the clients lose their server on purpose in every drill: kazoo's reconnect warnings would
# bury a failure's own message; errors still show
_LOG.setLevel(logging.ERROR)
# answers that say for sure the operation did not take effect
_DEFINITE = (BadVersionError, NoNodeError)
_INDETERMINATE = (ConnectionLoss, SessionExpiredError, OperationTimeoutError,
                  KazooTimeoutError, KazooException, OSError)


@dataclass(frozen=True)
class ServerData:
    """What one server holds of the workload's data, read after ``sync``."""

    server: str
    children: dict[str, set[str]]  # client dir -> child names
    error: str = ""


class Workload:
    """``start()`` ... ``stop()``; ``ledger`` has every operation with its times."""

    def __init__(self, endpoints: Mapping[str, Endpoint], tag: str, *, interval: float = 0.2,
                 op_timeout: float = 2.0, session_timeout: float = 10.0) -> None:
        self.endpoints = dict(endpoints)
        self.root = f"{ROOT}/{tag}-{uuid.uuid4().hex[:6]}"
        self.register = f"{self.root}/register"
        self.interval = interval
        self.op_timeout = op_timeout
        self.session_timeout = session_timeout
        self.ledger = Ledger()
        self.started = 0.0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: dict[str, KazooClient] = {}

    @property
    def clients(self) -> list[str]:
        return [*self.endpoints, APP]

    def directory(self, client: str) -> str:
        return f"{self.root}/{client}"

    def start(self, connect_timeout: float = 15.0) -> Workload:
        hosts = {pod: str(ep) for pod, ep in self.endpoints.items()}
        hosts[APP] = ",".join(hosts.values())
        for name, where in hosts.items():
            client = KazooClient(
                hosts=where, timeout=self.session_timeout, randomize_hosts=False, logger=_LOG,
                connection_retry={"max_tries": -1, "delay": 0.1, "backoff": 1.5,
                                  "max_delay": 1.0},
            )
            self._clients[name] = client
            client.start(timeout=connect_timeout)
        app = self._clients[APP]
        for name in hosts:
            app.ensure_path(self.directory(name))
        app.create(self.register, b"0")
        self.started = time.monotonic()
        for name in hosts:
            thread = threading.Thread(target=self._run, args=(name,), daemon=True,
                                      name=f"zk workload {name}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop issuing operations; pending ones become indeterminate."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self.op_timeout + 5.0)
        self.ledger.close()
        for client in self._clients.values():
            try:
                client.stop()
            finally:
                client.close()

    def acked_between(self, start: float, end: float) -> int:
        """Writes acknowledged (to any client) between two ``time.monotonic()`` instants."""
        return sum(1 for op in self.ledger.ops() if op.outcome == OK and op.is_write
                   and op.completed is not None and start <= op.completed <= end)

    def first_ack_after(self, instant: float) -> float | None:
        """When the first write completed after ``instant`` was acknowledged (or None)."""
        times = [op.completed for op in self.ledger.ops() if op.outcome == OK and op.is_write
                 and op.completed is not None and op.completed >= instant]
        return min(times) if times else None

    # -- the clients ---------------------------------------------------------------------------
    def _run(self, name: str) -> None:
        client, n = self._clients[name], 0
        while not self._stop.is_set():
            n += 1
            if n % 2:
                self._create(name, client, f"{name}-{n}")
            else:
                self._cas(name, client, f"{name}-{n}")
            self._stop.wait(self.interval)  # the write rate, not synchronisation

    def _create(self, name: str, client: KazooClient, value: str) -> None:
        directory = self.directory(name)
        op = self.ledger.invoke(name, "create", directory, value)
        self._finish(op, lambda: str(client.create_async(f"{directory}/w-", value.encode(),
                                                         sequence=True).get(self.op_timeout)))

    def _cas(self, name: str, client: KazooClient, value: str) -> None:
        try:  # the read is not part of the checked history (reads may be stale)
            _data, stat = client.get_async(self.register).get(self.op_timeout)
        except _INDETERMINATE:
            return
        op = self.ledger.invoke(name, "cas", self.register, value,
                                expect_version=stat.version)
        self._finish(op, lambda: str(client.set_async(
            self.register, value.encode(), version=stat.version).get(self.op_timeout).version))

    def _finish(self, op: int, call: Callable[[], str]) -> None:
        try:
            result = call()
        except _DEFINITE as exc:
            self.ledger.complete(op, FAIL, error=type(exc).__name__)
        except _INDETERMINATE as exc:
            self.ledger.complete(op, INFO, error=f"{type(exc).__name__}: {exc}"[:200])
        else:
            self.ledger.complete(op, OK, result=result)

    # -- reading back ----------------------------------------------------------------------------
    def snapshot(self, servers: Mapping[str, Endpoint], timeout: float) -> list[ServerData]:
        """Each server's children of every client directory, read after ``sync``."""
        if not servers:
            return []
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            return list(pool.map(lambda item: self._read(item[0], item[1], timeout),
                                 servers.items()))

    def _read(self, server: str, endpoint: Endpoint, timeout: float) -> ServerData:
        try:
            with session(endpoint, timeout=timeout) as client:
                children: dict[str, set[str]] = {}
                for name in self.clients:
                    directory = self.directory(name)
                    client.sync(directory)
                    children[name] = set(client.get_children(directory))
                return ServerData(server, children)
        except (ZkSessionError, KazooException, KazooTimeoutError, OSError) as exc:
            return ServerData(server, {}, f"{type(exc).__name__}: {exc}")

    def remove(self, endpoint: Endpoint, timeout: float) -> None:
        """Delete everything the workload wrote (once it has been checked): a drill leaves no
        data of its own behind in the user's ZooKeeper."""
        with session(endpoint, timeout=timeout) as client:
            client.delete(self.root, recursive=True)

    def register_version(self, endpoint: Endpoint, timeout: float) -> int:
        with session(endpoint, timeout=timeout) as client:
            client.sync(self.register)
            _data, stat = client.get(self.register)
            return int(stat.version)
