"""``kubectl exec POD -- COMMAND`` through ``pods/exec``: exit code, stdout, stderr.

Uses ``kubernetes.stream.stream`` on a private client (``Transport.stream_api``) and reads
both output channels until the command ends, then its exit code from the error channel.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from harness.errors import ClusterError
from harness.kube.transport import Transport, stream_failure

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ExecResult:
    pod: str
    command: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def output(self) -> str:
        """stdout then stderr, as a terminal shows them (zkCli.sh prints "Created" on stderr)."""
        return self.stdout + self.stderr

    def describe(self) -> str:
        """``zk-0$ hostname -> exit 0: zk-0`` for failure messages and step records.

        Shows the last line of output: where results and errors end up (zkCli.sh prints
        its connection chatter first and the znode's value last).
        """
        shown = [line for line in self.output.splitlines() if line.strip()]
        last = shown[-1].strip() if shown else "(no output)"
        more = f" ({len(shown)} lines, last shown)" if len(shown) > 1 else ""
        return f"{self.pod}$ {' '.join(self.command)} -> exit {self.exit_code}: {last}{more}"


def run(
    transport: Transport,
    namespace: str,
    pod: str,
    command: Sequence[str],
    *,
    container: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ExecResult:
    """Run ``command`` to completion (or ``timeout``), collecting both output channels."""
    argv = tuple(command)
    kwargs = {"container": container} if container else {}
    with transport.stream_api() as core:
        try:
            ws = stream(
                core.connect_get_namespaced_pod_exec,
                pod,
                namespace,
                command=list(argv),
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _preload_content=False,
                **kwargs,
            )
        except ApiException as exc:
            raise ClusterError(f"exec in {namespace}/{pod} failed: {stream_failure(exc)}") from exc
        stdout: list[str] = []
        stderr: list[str] = []
        deadline = time.monotonic() + timeout
        try:
            while ws.is_open():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ClusterError(
                        f"exec in {namespace}/{pod} did not finish within {timeout:.0f}s: "
                        f"{' '.join(argv)}"
                    )
                ws.update(timeout=min(remaining, 1.0))
                stdout.append(ws.read_stdout(timeout=0) or "")
                stderr.append(ws.read_stderr(timeout=0) or "")
            stdout.append(ws.read_stdout(timeout=0) or "")
            stderr.append(ws.read_stderr(timeout=0) or "")
            code = _exit_code(ws, f"exec in {namespace}/{pod} ({' '.join(argv)})")
        finally:
            ws.close()
    return ExecResult(pod, argv, code, "".join(stdout), "".join(stderr))


def _exit_code(ws: object, what: str) -> int:
    """The error channel's Status: Success -> 0, NonZeroExitCode -> its ExitCode cause."""
    raw = ws.read_channel(3)  # type: ignore[attr-defined]
    if not raw:
        raise ClusterError(f"{what} ended without a status (connection lost?)")
    status = yaml.safe_load(raw)
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message"))
    raise ClusterError(f"{what} failed: {status.get('message') or status}")
