"""One `pods/exec` session on an upgraded channel WebSocket.

Mirrors kube-apiserver's stream translator plus the kubelet/containerd exec path:

- an empty message on the lowest writable channel tells the client the session is up;
- stdin (0) goes to the command, `[255, 0]` (v5) closes its stdin, resize (4) carries
  `{"Width":..,"Height":..}` JSON for the terminal;
- when the command has exited *and* its output pipes are drained (containerd waits for
  both), one Status goes to channel 3 and the socket closes with 1000;
- a command that cannot be started is not an exit code: containerd reports it as an
  InternalError ("OCI runtime exec failed: ... executable file not found in $PATH") and
  kubectl exits 1. The runtime reports it as exit 126/127 with runc's one-line message
  on the command's error stream, which `_StartFailure` recognises and holds back;
- a client that goes away leaves the command running with its stdin closed (a terminal
  gets a hangup), as an exec'd process outlives its `kubectl exec` on a real node.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from localkube.apimachinery import errors as E
from localkube.apiserver.wsproto import ERROR, RESIZE, STDERR, STDIN, STDOUT, ChannelSocket
from localkube.runtime import ContainerStateError, ExecSession, start_exec

# Sessions whose client left before the command ended; kept referenced until it does.
_DETACHED: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class ExecOptions:
    """The PodExecOptions the kubelet acts on (stderr is dropped when a TTY is used)."""

    command: tuple[str, ...]
    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    tty: bool = False


# -- statuses written to channel 3 ---------------------------------------------------------


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(argv: Sequence[str], code: int) -> dict[str, Any]:
    """NonZeroExitCode with the `ExitCode` cause first (Python's `returncode` reads it)."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command "
        f"[{' '.join(argv)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_status(message: str) -> dict[str, Any]:
    """`apierrors.NewInternalError` as the translator marshals it (no kind/apiVersion)."""
    body = E.internal(message).status()
    body.pop("kind", None)
    body.pop("apiVersion", None)
    return body


def status_for_exit(argv: Sequence[str], code: int) -> dict[str, Any]:
    return success_status() if code == 0 else exit_status(argv, code)


async def finish(sock: ChannelSocket, status: dict[str, Any]) -> None:
    """Write the final status in the negotiated form, then close normally."""
    if sock.proto.json_status:
        await sock.send(ERROR, json.dumps(status, separators=(",", ":")).encode())
    elif status.get("status") != "Success":
        await sock.send(ERROR, str(status.get("message", "")).encode())  # v1: text only
    await sock.close()


# -- recognising "the command could not be started" ----------------------------------------


class _StartFailure:
    """Holds back the first bytes of the command's error stream while they could still be
    the runtime's start-failure report (`exec: "foo": ...` or `chdir to cwd ...`, one line,
    then exit 126/127), so a failed start can be reported like containerd does."""

    def __init__(self, argv0: str) -> None:
        self._signatures = (f'exec: "{argv0}": '.encode(), b"chdir to cwd (")
        self._held = b""
        self._active = True

    def _plausible(self, data: bytes) -> bool:
        newline = data.find(b"\n")
        if newline != -1 and newline != len(data) - 1:
            return False
        return any(data[: len(sig)] == sig[: len(data)] for sig in self._signatures)

    def error_output(self, chunk: bytes) -> bytes:
        """Bytes of the error stream that can be sent now."""
        if not self._active:
            return chunk
        data = self._held + chunk
        if self._plausible(data):
            self._held = data
            return b""
        self._active, self._held = False, b""
        return data

    def other_output(self) -> None:
        """Anything on the other stream means the command did start."""
        self._active = False

    def message(self, exit_code: int) -> str | None:
        """containerd's error for a start failure, or None if the command ran."""
        line = self._held.decode(errors="replace").strip()
        if not (self._active and exit_code in (126, 127) and self._held.endswith(b"\n")):
            return None
        if not any(self._held.startswith(sig) and len(self._held) > len(sig)
                   for sig in self._signatures):
            return None
        return (
            "error executing command in container: failed to exec in container: "
            f'failed to start exec "{secrets.token_hex(32)}": OCI runtime exec failed: '
            f"exec failed: unable to start container process: {line}: unknown"
        )

    def release(self) -> bytes:
        """What was held back, once it turned out to be ordinary output."""
        held, self._held, self._active = self._held, b"", False
        return held


# -- the session ---------------------------------------------------------------------------


async def run(sock: ChannelSocket, container: Any, name: str, opts: ExecOptions) -> None:
    """Run the command in `container` over `sock` and finish the session."""
    try:
        session = await start_exec(container, opts.command, tty=opts.tty, stdin=opts.stdin)
    except ContainerStateError:
        await finish(sock, internal_status(
            f'unable to upgrade connection: container not found ("{name}")'))
        return
    except OSError as exc:
        await finish(sock, internal_status(f"error executing command in container: {exc}"))
        return
    status = await _attach(sock, session, opts)
    if status is None:
        await sock.close()  # the client has gone; nothing left to report
    else:
        await finish(sock, status)


async def _attach(
    sock: ChannelSocket, session: ExecSession, opts: ExecOptions
) -> dict[str, Any] | None:
    """Relay until the command ends; the status to send, or None if the client left."""
    watch = _StartFailure(opts.command[0])
    error_channel = STDOUT if opts.tty else STDERR
    pumps = [
        asyncio.create_task(_pump(sock, session.stdout, STDOUT, opts.stdout, watch,
                                  is_error_stream=opts.tty)),
        asyncio.create_task(_pump(sock, session.stderr, STDERR, opts.stderr, watch,
                                  is_error_stream=not opts.tty)),
    ]
    exited = asyncio.create_task(session.wait())
    inputs = asyncio.create_task(_client_input(sock, session, opts))
    try:
        await asyncio.wait({exited, inputs}, return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():
            _detach(session, pumps, exited)
            return None
        code = exited.result()
        await asyncio.gather(*pumps)
    except asyncio.CancelledError:
        _detach(session, pumps, exited)
        inputs.cancel()
        raise
    session.close()
    failure = watch.message(code)
    if failure is not None:
        return internal_status(failure)
    held = watch.release()
    wanted = opts.stdout if error_channel == STDOUT else opts.stderr
    if held and wanted:
        await sock.send(error_channel, held)
    return status_for_exit(opts.command, code)


async def _pump(
    sock: ChannelSocket,
    reader: asyncio.StreamReader,
    channel: int,
    wanted: bool,
    watch: _StartFailure,
    is_error_stream: bool,
) -> None:
    """Copy one output stream to its channel; unrequested output is drained and dropped."""
    while chunk := await reader.read(65536):
        if is_error_stream:
            chunk = watch.error_output(chunk)
        else:
            watch.other_output()
        if chunk and wanted:
            await sock.send(channel, chunk)


async def _client_input(sock: ChannelSocket, session: ExecSession, opts: ExecOptions) -> None:
    """Client frames until the client leaves: stdin data, stdin close, terminal resizes."""
    resize = _ResizeDecoder()
    async for frame in sock.frames():
        if frame.channel == STDIN and opts.stdin:
            with contextlib.suppress(ContainerStateError, OSError):
                if frame.closed:
                    await session.close_stdin()
                else:
                    await session.write_stdin(frame.data)
        elif frame.channel == RESIZE and opts.tty and not frame.closed:
            for width, height in resize.feed(frame.data):
                session.resize(width, height)


class _ResizeDecoder:
    """The resize channel is a stream of JSON objects (the kubelet uses json.Decoder)."""

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> list[tuple[int, int]]:
        self._buffer += data.decode(errors="replace")
        sizes = []
        while self._buffer.strip():
            text = self._buffer.lstrip()
            try:
                value, end = self._decoder.raw_decode(text)
            except ValueError:
                break  # incomplete: wait for more
            self._buffer = text[end:]
            if isinstance(value, dict):
                width, height = value.get("Width"), value.get("Height")
                if isinstance(width, int) and isinstance(height, int):
                    sizes.append((width, height))
        return sizes


def _detach(
    session: ExecSession, pumps: list[asyncio.Task[None]], exited: asyncio.Task[int]
) -> None:
    """Let the command run on without a client: stdin closed, output discarded."""

    async def run_on() -> None:
        if session.tty:
            for pump in pumps:
                pump.cancel()
            session.close()  # hangs up the terminal: the shell gets SIGHUP
        else:
            with contextlib.suppress(ContainerStateError, OSError):
                await session.close_stdin()
        await asyncio.gather(exited, *pumps, return_exceptions=True)
        session.close()

    task = asyncio.get_running_loop().create_task(run_on())
    _DETACHED.add(task)
    task.add_done_callback(_DETACHED.discard)
