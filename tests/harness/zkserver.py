"""Real ZooKeeper servers (Debian's 3.8 jars) on 127.0.0.1 with free ports, for slow tests.

Each server is ``java ... QuorumPeerMain zoo.cfg`` with its own data dir and ports; one
server without ``server.N`` lines runs standalone. Readiness is awaited with ``wait_for``
on ``ruok``/``srvr`` under a deadline, never a bare sleep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from harness.errors import ZooKeeperError
from harness.model.progress import Progress
from harness.model.quorum import assess_ensemble
from harness.waits import wait_for
from harness.zk.endpoint import Endpoint
from harness.zk.fourletter import ensemble_modes, ruok

JARS = (
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/slf4j-log4j12.jar",
    "/usr/share/java/log4j-1.2.jar",
)
START_TIMEOUT = 60.0
_LOG4J = """log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File={path}
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{{ISO8601}} [myid:%X{{myid}}] %-5p %c{{1}} - %m%n
"""


def missing_requirement() -> str | None:
    """Why real ZooKeeper cannot run here, or None."""
    if shutil.which("java") is None:
        return "java is not installed"
    for jar in JARS:
        if not Path(jar).is_file():
            return f"{jar} is missing (apt-get install zookeeper liblog4j1.2-java libslf4j-java)"
    return None


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: every socket stays bound until all are chosen."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


@dataclass
class Server:
    name: str  # zk-<ordinal>, like the StatefulSet's pods
    myid: int
    directory: Path
    client_port: int
    quorum_port: int
    election_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("127.0.0.1", self.client_port)

    @property
    def log(self) -> Path:
        return self.directory / "zookeeper.log"

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class LocalEnsemble:
    """``size`` servers under ``base``; ``start()``/``stop(name)``/``close()``."""

    def __init__(self, base: Path, size: int, *, whitelist: str = "*") -> None:
        self.whitelist = whitelist
        ports = free_ports(3 * size)
        self.servers = [
            Server(f"zk-{i}", i + 1, base / f"zk-{i}", *ports[3 * i : 3 * i + 3])
            for i in range(size)
        ]
        for server in self.servers:
            self._configure(server)

    @property
    def endpoints(self) -> dict[str, Endpoint]:
        return {s.name: s.endpoint for s in self.servers}

    def server(self, name: str) -> Server:
        return next(s for s in self.servers if s.name == name)

    def _configure(self, server: Server) -> None:
        data = server.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "myid").write_text(f"{server.myid}\n")
        lines = [
            "tickTime=2000",
            "initLimit=10",
            "syncLimit=5",
            f"dataDir={data}",
            f"clientPort={server.client_port}",
            "clientPortAddress=127.0.0.1",
            "quorumListenOnAllIPs=false",
            "maxClientCnxns=60",
        ]
        if len(self.servers) > 1:
            lines += [
                f"server.{s.myid}=127.0.0.1:{s.quorum_port}:{s.election_port}" for s in self.servers
            ]
        (server.directory / "zoo.cfg").write_text("\n".join(lines) + "\n")
        (server.directory / "log4j.properties").write_text(_LOG4J.format(path=server.log))

    def start(self, *names: str, timeout: float = START_TIMEOUT) -> None:
        """Start the named servers (all by default) and wait until each answers ``imok``.

        ``imok`` only means the process is up: a server answers it before it serves (even
        standalone, for a few ms). Wait with ``wait_healthy`` before using the data.
        """
        chosen = [self.server(n) for n in names] if names else self.servers
        for server in chosen:
            if server.process is None or server.process.poll() is not None:
                server.process = subprocess.Popen(
                    [
                        "java",
                        "-Xmx128m",
                        "-XX:+UseSerialGC",
                        "-Djava.net.preferIPv4Stack=true",
                        "-Dzookeeper.admin.enableServer=false",
                        f"-Dzookeeper.4lw.commands.whitelist={self.whitelist}",
                        "-Dzookeeper.preAllocSize=4096",
                        f"-Dlog4j.configuration=file:{server.directory / 'log4j.properties'}",
                        "-cp",
                        ":".join(JARS),
                        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                        str(server.directory / "zoo.cfg"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                    env={**os.environ, "JAVA_TOOL_OPTIONS": ""},
                )
        for server in chosen:
            wait_for(
                partial(self._answers_imok, server),
                timeout=timeout,
                description=f"{server.name} to answer ruok",
                recheck=0.1,
                tolerate=(ZooKeeperError,),
            )

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """One leader, the rest followers (or standalone for one server)."""
        wait_for(
            lambda: assess_ensemble(
                ensemble_modes(self.endpoints, timeout=2.0), len(self.servers)
            ).as_progress(),
            timeout=timeout,
            description="a healthy ensemble",
            recheck=0.1,
        )

    def stop(self, name: str) -> None:
        _terminate(self.server(name))

    def close(self) -> None:
        for server in self.servers:
            _terminate(server)

    @staticmethod
    def _answers_imok(server: Server) -> Progress:
        assert server.process is not None
        code = server.process.poll()
        if code is not None:
            raise RuntimeError(f"{server.name} exited with {code}:\n{server.log_tail()}")
        alive = ruok(server.endpoint, timeout=2.0)
        return Progress(alive, f"{server.name} answers {'imok' if alive else 'something else'}")


def _terminate(server: Server) -> None:
    process, server.process = server.process, None
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
