"""Run ``localkube up`` as a subprocess for a session, by its command line only.

The harness never imports localkube: it starts ``python -m localkube up --nodes N
--kubeconfig K --state-dir D --port 0`` and waits (event-driven: every log line localkube
writes wakes the wait) until the kubeconfig exists and ``/readyz`` answers ``ok``. If the
process exits first, its last stderr lines (e.g. the preflight's "localkube: ZooKeeper is
not installed ...: run 'apt-get install -y zookeeper'") become one ``ConfigError`` line.
``stop()`` sends SIGTERM and waits; SIGKILL only if it does not exit in time.
"""

from __future__ import annotations

import base64
import ctypes
import os
import shlex
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import yaml

from harness.errors import ConfigError
from harness.model.progress import Progress
from harness.waits import QueueEventSource, wait_for

START_TIMEOUT = 120.0
STOP_TIMEOUT = 90.0  # pods get their grace periods (30 s by default) on shutdown
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def default_command() -> list[str]:
    return [sys.executable, "-m", "localkube"]


# Node failure on a drill's time scale, with the real components' flags: a silent node is
# NotReady after 20 s (1.32: 50 s) and its pods are evicted 15 s later (1.32: 300 s). The
# kubelet's heartbeat comes every 5 s, so a loaded 2-core machine never trips it by accident.
NODE_HEALTH_ARGS = (
    "--node-monitor-grace-period", "20s",
    "--node-monitor-period", "1s",
    "--default-not-ready-toleration-seconds", "15",
    "--default-unreachable-toleration-seconds", "15",
)


class LocalkubeProcess:
    """One ``localkube up`` child process and the files it writes."""

    def __init__(
        self,
        *,
        nodes: int = 4,
        state_dir: Path | None = None,
        extra_args: Sequence[str] = (),
        command: Sequence[str] | None = None,
    ) -> None:
        self.nodes = nodes
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="zkdrill-localkube-"))
        self.kubeconfig = self.state_dir / "kubeconfig"
        self.log_file = self.state_dir / "localkube.log"
        self.extra_args = tuple(extra_args)
        self.command = list(command or default_command())
        self.process: subprocess.Popen[bytes] | None = None
        self._lines: list[str] = []
        self._events = QueueEventSource()
        self._reader: threading.Thread | None = None

    @property
    def argv(self) -> list[str]:
        return [
            *self.command,
            "up",
            "--nodes",
            str(self.nodes),
            "--kubeconfig",
            str(self.kubeconfig),
            "--state-dir",
            str(self.state_dir / "state"),
            "--port",
            "0",
            *NODE_HEALTH_ARGS,
            *self.extra_args,
        ]

    def node_command(self, action: str) -> str:
        """``localkube node stop|start {node}`` for this instance (a ``--node-*-command``)."""
        words = [*self.command, "node", action, "{node}", "--state-dir",
                 str(self.state_dir / "state")]
        return " ".join(shlex.quote(w) if w != "{node}" else w for w in words)

    def start(self, timeout: float = START_TIMEOUT) -> LocalkubeProcess:
        """Start and wait until ready; ``ConfigError`` (one line) if it cannot start."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # Ctrl-C reaches pytest, which stops it in order
                preexec_fn=_terminate_with_parent,
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot run localkube ({' '.join(self.command)}): {exc.strerror or exc}",
                hint="install zkdrill (pip install -e .) or use --cluster=kube",
            ) from exc
        self._reader = threading.Thread(target=self._read_stderr, name="localkube log", daemon=True)
        self._reader.start()
        try:
            wait_for(
                self._ready,
                timeout=timeout,
                description="localkube to answer /readyz",
                events=self._events,
                recheck=0.5,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL. Returns the exit status."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait(10)

    def describe(self) -> str:
        pid = self.process.pid if self.process else "-"
        return f"localkube pid {pid}, {self.nodes} nodes, state {self.state_dir}"

    def log_tail(self, lines: int = 20) -> list[str]:
        return self._lines[-lines:]

    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        with self.log_file.open("ab") as log:
            for raw in iter(self.process.stderr.readline, b""):
                log.write(raw)
                log.flush()
                self._lines.append(raw.decode("utf-8", "replace").rstrip())
                self._events.put("line")
        self._events.put("eof")

    def _ready(self) -> Progress:
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            if self._reader is not None:
                self._reader.join(5)  # every line it wrote before exiting
            raise ConfigError(f"localkube could not start (exit {code}): {self._reason()}")
        if not self.kubeconfig.is_file():
            return Progress.waiting(f"no kubeconfig yet at {self.kubeconfig}")
        server = _server_of(self.kubeconfig)
        if server is None:
            return Progress.waiting("kubeconfig not complete yet")
        if not _readyz(server, self.kubeconfig):
            return Progress.waiting(f"{server}/readyz not ok yet")
        return Progress.ok(f"ready at {server}")

    def _reason(self) -> str:
        lines = [line for line in self._lines if line.strip()]
        preflight = [line for line in lines if line.startswith("localkube:")]
        chosen = preflight or lines[-1:]
        return "; ".join(chosen) if chosen else f"no output (see {self.log_file})"


def _server_of(kubeconfig: Path) -> str | None:
    try:
        data = yaml.safe_load(kubeconfig.read_text())
        return str(data["clusters"][0]["cluster"]["server"])
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        return None


def _readyz(server: str, kubeconfig: Path) -> bool:
    """``/readyz`` says ok (TLS to localkube's own CA; unauthenticated probe path)."""
    context = ssl.create_default_context()
    try:
        data = yaml.safe_load(kubeconfig.read_text())
        ca = data["clusters"][0]["cluster"].get("certificate-authority-data")
        if ca:
            context.load_verify_locations(cadata=base64.b64decode(ca).decode())
        token = data["users"][0]["user"].get("token")
        request = urllib.request.Request(f"{server}/readyz")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=5, context=context) as reply:
            return bool(reply.status == 200 and reply.read().strip() == b"ok")
    except (OSError, ValueError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return False


def _terminate_with_parent() -> None:
    """Ask the kernel to SIGTERM localkube if pytest dies (even by SIGKILL).

    localkube handles SIGTERM by stopping every container, so a killed test run leaves no
    ZooKeeper process, mount or loopback listener behind.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
