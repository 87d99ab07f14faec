"""Running commands inside a running container (probes, `kubectl exec`).

    setpriv --pdeathsig KILL -- nsenter --target <PID 1> --pid --mount --uts --root --wd
        -- /run/localkube/lkinit exec -u UID -g GID -G GROUPS -c CWD [-t] -e K=V... -- ARGV

The command runs in the container's namespaces and root, as the container's user with
its groups (fsGroup included), environment and working directory, in a session of its
own (with the TTY as controlling terminal when asked). It dies with its nsenter, which
dies with localkube. A missing executable exits 127 with runc's message
(`exec: "foo": executable file not found in $PATH`).

`run_exec` collects the output (probes); on timeout it kills the whole process tree and
raises `ExecTimeout`. `start_exec` returns an `ExecSession` with async stdin/stdout/stderr
and an optional pseudo-terminal (resize with `resize(width, height)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import struct
import termios
from collections.abc import Sequence
from typing import NamedTuple

from localkube.runtime import proctree
from localkube.runtime.container import HOST_ENV, Container
from localkube.runtime.errors import ContainerStateError, ExecTimeout
from localkube.runtime.rootfs import LOCALKUBE_DIR

_HELPER = f"{LOCALKUBE_DIR}/lkinit"


class ExecResult(NamedTuple):
    exit_code: int
    stdout: bytes
    stderr: bytes


def _argv(container: Container, argv: Sequence[str], tty: bool) -> list[str]:
    if not container.running or container.pid is None:
        raise ContainerStateError(
            f"container {container.spec.name} is not running (state {container.state.value})"
        )
    if not argv:
        raise ValueError("exec needs a command")
    proc = container.process
    cmd = [
        "setpriv", "--pdeathsig", "KILL", "--",
        "nsenter", f"--target={container.pid}", "--pid", "--mount", "--uts", "--root", "--wd",
        "--", _HELPER, "exec",
        "-u", str(proc.uid), "-g", str(proc.gid),
        "-G", ",".join(str(g) for g in proc.groups),
        "-c", proc.cwd,
    ]  # fmt: skip
    env = list(proc.env)
    if tty:
        cmd.append("-t")
        if not any(item.startswith("TERM=") for item in env):
            env.append("TERM=xterm")
    for item in env:
        cmd += ["-e", item]
    return [*cmd, "--", *argv]


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


async def run_exec(
    container: Container,
    argv: Sequence[str],
    timeout: float | None = None,
    stdin: bytes | None = None,
) -> ExecResult:
    """Run a command to completion and collect its output (for probes).

    Raises `ExecTimeout` (after killing the command and everything it started) when it
    runs longer than `timeout` seconds.
    """
    proc = await asyncio.create_subprocess_exec(
        *_argv(container, argv, tty=False),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=HOST_ENV,
        start_new_session=True,
    )
    session = ExecSession(container, proc, master_fd=None)
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        session.kill()
        await proc.wait()
        raise ExecTimeout(list(argv), timeout or 0.0, b"", b"") from None
    except BaseException:
        session.kill()
        await proc.wait()
        raise
    return ExecResult(_exit_code(proc.returncode or 0), out, err)


class ExecSession:
    """A running exec'd command with streaming I/O."""

    def __init__(
        self,
        container: Container,
        proc: asyncio.subprocess.Process,
        master_fd: int | None,
        tty_reader: asyncio.StreamReader | None = None,
    ) -> None:
        self.container = container
        self._proc = proc
        self._master = master_fd
        self.tty = master_fd is not None
        self.stdout: asyncio.StreamReader = tty_reader or proc.stdout  # type: ignore[assignment]
        # With a TTY, stderr is merged into the terminal: an empty, finished stream.
        if proc.stderr is not None:
            self.stderr: asyncio.StreamReader = proc.stderr
        else:
            self.stderr = asyncio.StreamReader()
            self.stderr.feed_eof()
        self.exit_code: int | None = None
        container._register_exec(self)

    @property
    def pid(self) -> int:
        return self._proc.pid

    async def write_stdin(self, data: bytes) -> None:
        if self._master is not None:
            await _write_fd(self._master, data)
            return
        if self._proc.stdin is None:
            raise ContainerStateError("exec session has no stdin")
        self._proc.stdin.write(data)
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            await self._proc.stdin.drain()

    async def close_stdin(self) -> None:
        if self._master is not None:
            # End of input on a terminal is the EOF character at the start of a line.
            with contextlib.suppress(OSError):
                await _write_fd(self._master, b"\x04")
            return
        if self._proc.stdin is not None and not self._proc.stdin.is_closing():
            self._proc.stdin.close()
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                await self._proc.stdin.wait_closed()

    def resize(self, width: int, height: int) -> None:
        """Set the terminal size (the command gets SIGWINCH)."""
        if self._master is None:
            return
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    async def wait(self) -> int:
        returncode = await self._proc.wait()
        self.exit_code = _exit_code(returncode)
        return self.exit_code

    def kill(self) -> None:
        """Kill the command and everything it started."""
        if self._proc.returncode is None:
            proctree.kill_tree(self._proc.pid)

    def close(self) -> None:
        """Release the terminal (after `wait()`)."""
        if self._master is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._master)
            os.close(self._master)
            self._master = None


async def start_exec(
    container: Container,
    argv: Sequence[str],
    *,
    tty: bool = False,
    stdin: bool = True,
    width: int = 80,
    height: int = 24,
) -> ExecSession:
    """Start a command with streaming I/O; with `tty` it gets a pseudo-terminal."""
    cmd = _argv(container, argv, tty=tty)
    if not tty:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=HOST_ENV,
            start_new_session=True,
        )
        return ExecSession(container, proc, master_fd=None)

    master, slave = os.openpty()
    try:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        os.set_blocking(master, False)
        env = {**HOST_ENV, "TERM": "xterm"}
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()

    def readable() -> None:
        try:
            data = os.read(master, 65536)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: the terminal's last writer has gone
            if exc.errno != errno.EIO:
                reader.set_exception(exc)
            data = b""
        if data:
            reader.feed_data(data)
        else:
            loop.remove_reader(master)
            reader.feed_eof()

    loop.add_reader(master, readable)
    return ExecSession(container, proc, master_fd=master, tty_reader=reader)


async def _write_fd(fd: int, data: bytes) -> None:
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            ready = loop.create_future()
            loop.add_writer(fd, ready.set_result, None)
            try:
                await ready
            finally:
                loop.remove_writer(fd)
