"""A container: one process tree in its own PID, mount and UTS namespaces.

    setpriv --pdeathsig KILL -- unshare --pid --fork --mount --uts --propagation private
        --kill-child -- lkinit init CONFIG

`lkinit` (PID 1 inside) runs the generated setup script (see `rootfs.py`), pivots into
the new root, drops to the container's user and starts the command as its child. The
host talks to it through a status pipe ("ready <host pid>", "exec-error <msg>",
"exit <code>"). Both parent-death signals make the whole container die with localkube,
even on SIGKILL; since every mount lives in the container's private mount namespace,
nothing is left on the host when the container ends.

Exit codes follow Kubernetes: the command's code, 128+N for a death by signal N, 127 for
a command that does not exist, 137 when the runtime had to SIGKILL the container (even
though util-linux's unshare then exits 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import secrets
import shutil
import signal
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from localkube.runtime import proctree
from localkube.runtime.errors import ContainerCreateError, ContainerStateError
from localkube.runtime.logs import CriLogWriter, prune_logs
from localkube.runtime.native import NativeTools, ensure_native
from localkube.runtime.rootfs import BindMount, RootfsPlan, render_setup_script
from localkube.runtime.sandbox import PodSandbox
from localkube.runtime.spec import ContainerSpec, ProcessConfig, resolve_process
from localkube.runtime.volumes import apply_fs_group

if TYPE_CHECKING:
    from localkube.runtime.exec import ExecSession

STARTUP_TIMEOUT = 30.0
TERMINATION_MESSAGE_LIMIT = 4096
# Environment of the host-side helpers (setpriv, unshare, nsenter): nothing inherited.
HOST_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}


class State(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"


def check_host() -> None:
    """Fail early, in one line, on a host that cannot run containers."""
    if os.geteuid() != 0:
        raise ContainerCreateError(
            "localkube's container runtime needs root (namespaces, mounts, runAsUser)"
        )
    for tool in ("setpriv", "unshare", "nsenter"):
        if shutil.which(tool, path=HOST_ENV["PATH"]) is None:
            raise ContainerCreateError(f"{tool} not found: run `apt-get install util-linux`")


class Container:
    """One instance of a pod's container; a restart is a new `Container`.

    Construction resolves the process (argv, user, env) and raises `ContainerCreateError`
    for a spec that cannot run (no command, unknown image user). Call `start()` once, then
    `wait()`/`stop()`; `stop()` and exec need a finished `start()`.
    """

    def __init__(
        self,
        spec: ContainerSpec,
        sandbox: PodSandbox,
        *,
        instance: int = 0,
        log_path: Path | None = None,
        tools: NativeTools | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.spec = spec
        self.sandbox = sandbox
        self.instance = instance
        self.id = secrets.token_hex(32)
        self.directory = sandbox.container_dir(spec.name, instance)
        self.log_path = log_path or sandbox.log_path(spec.name, instance)
        self.process: ProcessConfig = resolve_process(spec, sandbox.hostname)
        self.state = State.CREATED
        self.pid: int | None = None
        self.exit_code: int | None = None
        self.exit_message: str | None = None
        self.termination_message: str = ""
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._tools = tools
        self._cache_dir = cache_dir
        self._proc: asyncio.subprocess.Process | None = None
        self._pidfd: int | None = None
        self._reported_exit: int | None = None
        self._killed = False
        self._done = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._log: CriLogWriter | None = None
        self._execs: weakref.WeakSet[ExecSession] = weakref.WeakSet()

    # -- public API ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.state is State.RUNNING

    @property
    def exited(self) -> bool:
        return self.state is State.EXITED

    def log_finished(self) -> bool:
        """True once the instance has exited and its log file is complete."""
        return self._done.is_set()

    async def start(self) -> None:
        """Create the namespaces and root file system and start the command.

        Returns once the command has been started (it may fail right away, e.g. with
        127 when it does not exist: see `wait()` and `exit_message`). Raises
        `ContainerCreateError` when the container could not be set up at all.
        """
        if self.state is not State.CREATED:
            raise ContainerStateError(f"container {self.spec.name} was already started")
        check_host()
        tools = self._tools
        if tools is None:
            tools = self._tools = await asyncio.to_thread(ensure_native, self._cache_dir)
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            config = await asyncio.to_thread(self._prepare, tools, write_fd)
            self._proc = await asyncio.create_subprocess_exec(
                "setpriv", "--pdeathsig", "KILL", "--",
                "unshare", "--pid", "--fork", "--mount", "--uts",
                "--propagation", "private", "--kill-child", "--",
                str(tools.init), "init", str(config),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(write_fd,),
                env=HOST_ENV,
                start_new_session=True,
            )  # fmt: skip
        except BaseException:
            os.close(read_fd)
            self._cleanup_directory()
            raise
        finally:
            os.close(write_fd)
        status = await self._status_reader(read_fd)
        try:
            line = await asyncio.wait_for(status.readline(), STARTUP_TIMEOUT)
        except BaseException:
            await self._abort_start()
            raise
        if not line.startswith(b"ready "):
            await self._fail_start(line)
        host_pid = int(line.split()[1])
        self.pid = host_pid
        with contextlib.suppress(OSError):
            self._pidfd = os.pidfd_open(host_pid)
        self.started_at = time.time()
        self.state = State.RUNNING
        self._log = CriLogWriter(self.log_path)
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._tasks = [
            asyncio.create_task(self._pump(self._proc.stdout, "stdout")),
            asyncio.create_task(self._pump(self._proc.stderr, "stderr")),
            asyncio.create_task(self._read_status(status)),
        ]
        self._tasks.append(asyncio.create_task(self._supervise()))

    async def wait(self) -> int:
        """Wait for the container to exit; returns its exit code."""
        if self.state is State.CREATED:
            raise ContainerStateError(f"container {self.spec.name} was not started")
        await self._done.wait()
        assert self.exit_code is not None
        return self.exit_code

    async def stop(self, grace_seconds: float) -> int:
        """SIGTERM, wait up to the grace period, then SIGKILL; returns the exit code.

        When it returns, every process of the container is gone.
        """
        if self.state is State.CREATED:
            raise ContainerStateError(f"container {self.spec.name} was not started")
        if not self._done.is_set():
            self._signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(self._done.wait()), max(grace_seconds, 0))
            except TimeoutError:
                self.kill()
        return await self.wait()

    def kill(self) -> None:
        """SIGKILL the container now (every process in it dies with its PID 1)."""
        if self.state is State.RUNNING and not self._done.is_set():
            self._killed = True
            self._signal(signal.SIGKILL)

    @property
    def reason(self) -> str | None:
        """The terminated reason for the pod status (None while running).

        `ContainerCannotRun` when the command could not be executed (with 127/126 and
        `exit_message`, as Docker-based clusters report it), else Completed or Error.
        """
        if self.exit_code is None:
            return None
        if self.exit_message is not None:
            return "ContainerCannotRun"
        return "Completed" if self.exit_code == 0 else "Error"

    # -- internals ----------------------------------------------------------------

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, sig)
            elif self.pid is not None:
                os.kill(self.pid, sig)

    def _prepare(self, tools: NativeTools, status_fd: int) -> Path:
        """Write the container directory: config, setup script, /run/localkube files."""
        spec = self.spec
        directory = self.directory
        shutil.rmtree(directory, ignore_errors=True)
        for sub in ("rootfs", "scratch", "lk"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        directory.chmod(0o711)
        lk = directory / "lk"
        lk.chmod(0o755)
        (lk / "pod-ip").write_text(self.sandbox.ip + "\n")
        shutil.copy2(tools.shim, lk / "podnet.so")
        shutil.copy2(tools.init, lk / "lkinit")
        for item in lk.iterdir():
            item.chmod(0o755 if item.name != "pod-ip" else 0o644)
        termination_log = directory / "termination-log"
        termination_log.touch()
        termination_log.chmod(0o666)

        binds = []
        for mount in spec.volume_mounts:
            if not mount.host_path.exists():
                raise ContainerCreateError(
                    f"volume source {mount.host_path} for {mount.container_path} does not exist"
                )
            if spec.fs_group is not None and mount.manage_ownership:
                apply_fs_group(mount.host_path, spec.fs_group, mount.read_only)
            binds.append(BindMount(mount.host_path, mount.container_path, mount.read_only))
        if spec.termination_message_path:
            binds.append(BindMount(termination_log, spec.termination_message_path))

        plan = RootfsPlan(
            rootfs=directory / "rootfs",
            scratch=directory / "scratch",
            layer=spec.image.layer,
            private_dirs=spec.image.private_dirs,
            localkube_dir=lk,
            pod_files={
                "hosts": self.sandbox.hosts_path,
                "hostname": self.sandbox.hostname_path,
                "resolv.conf": self.sandbox.resolv_conf_path,
            },
            binds=binds,
            working_dir=self.process.cwd,
            error_file=directory / "setup.err",
            read_only=spec.read_only_root,
        )
        (directory / "setup.sh").write_text(render_setup_script(plan))
        proc = self.process
        items: list[tuple[str, str]] = [
            ("hostname", self.sandbox.hostname),
            ("setup", str(directory / "setup.sh")),
            ("rootfs", str(directory / "rootfs")),
            ("status_fd", str(status_fd)),
            ("uid", str(proc.uid)),
            ("gid", str(proc.gid)),
            ("cwd", proc.cwd),
        ]
        items += [("group", str(g)) for g in proc.groups]
        items += [("env", e) for e in proc.env]
        items += [("arg", a) for a in proc.argv]
        if any("\0" in k or "\0" in v for k, v in items):
            raise ContainerCreateError("command, environment and names cannot contain NUL")
        (directory / "config").write_bytes(
            b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in items)
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        prune_logs(self.log_path.parent, keep=1)
        return directory / "config"

    async def _status_reader(self, read_fd: int) -> asyncio.StreamReader:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        return reader

    async def _abort_start(self) -> None:
        assert self._proc is not None
        proctree.kill_tree(self._proc.pid)
        await self._proc.communicate()
        self._cleanup_directory()

    async def _fail_start(self, line: bytes) -> None:
        assert self._proc is not None
        _, stderr = await self._proc.communicate()
        if line.startswith(b"setup-error"):
            text = (self.directory / "setup.err").read_text(errors="replace")
        else:
            text = stderr.decode(errors="replace")
        lines = text.strip().splitlines()
        detail = lines[-1] if lines else f"container init exited with {self._proc.returncode}"
        self._cleanup_directory()
        raise ContainerCreateError(f"failed to create container {self.spec.name}: {detail}")

    async def _pump(self, stream: asyncio.StreamReader, name: str) -> None:
        while chunk := await stream.read(65536):
            if self._log is not None:
                self._log.write(name, chunk)

    async def _read_status(self, status: asyncio.StreamReader) -> None:
        while line := await status.readline():
            text = line.decode(errors="replace").rstrip("\n")
            kind, _, rest = text.partition(" ")
            if kind == "exec-error":
                self.exit_message = rest
            elif kind == "exit" and rest.lstrip("-").isdigit():
                self._reported_exit = int(rest)

    async def _supervise(self) -> None:
        assert self._proc is not None
        returncode = await self._proc.wait()
        await asyncio.gather(*self._tasks[:3], return_exceptions=True)
        await self._reap_execs()
        if self._reported_exit is not None:
            code = self._reported_exit
        elif self._killed or returncode == 1:
            # lkinit always reports before exiting, so silence means it was SIGKILLed
            # (by us, or e.g. the OOM killer); unshare then exits 1.
            code = 137
        elif returncode < 0:
            code = 128 - returncode
        else:
            code = returncode
        self.exit_code = code
        self.finished_at = time.time()
        try:
            data = (self.directory / "termination-log").read_bytes()
            self.termination_message = data[-TERMINATION_MESSAGE_LIMIT:].decode(errors="replace")
        except OSError:
            self.termination_message = ""
        if self._log is not None:
            self._log.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._cleanup_directory()
        self.state = State.EXITED
        self._done.set()

    async def _reap_execs(self) -> None:
        """Exec sessions end with the container's namespace; make sure they have."""
        sessions = list(self._execs)
        if not sessions:
            return
        _, pending = await asyncio.wait(
            [asyncio.create_task(s.wait()) for s in sessions], timeout=5
        )
        for session in sessions:
            session.kill()
        if pending:
            await asyncio.wait(pending, timeout=5)

    def _register_exec(self, session: ExecSession) -> None:
        self._execs.add(session)

    def _cleanup_directory(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
