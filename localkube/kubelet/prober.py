"""Container probes as the kubelet runs them (pkg/kubelet/prober: worker.go, prober.go).

One `ProbeWorker` per (container instance, probe kind). It is driven by loop timers: the
first probe runs `initialDelaySeconds` after the container started, then one every
`periodSeconds` (measured from the start of the previous run, never overlapping). A
result only counts once it repeated `successThreshold`/`failureThreshold` times in a row;
then the worker reports it. Readiness starts failed, liveness starts successful, startup
gates the other two (they do not run until the startup probe passed). After a failing
liveness/startup result the worker holds until the kubelet starts a new instance.

Handlers: exec (in the container, as its user, cut at timeoutSeconds), tcpSocket (connect
to pod IP:port), httpGet (HTTP/1.x GET on the pod IP, 200-399 is success).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("localkube.prober")

LIVENESS, READINESS, STARTUP = "Liveness", "Readiness", "Startup"
MAX_OUTPUT = 10 * 1024

#: exec(argv, timeout) -> (exit code, combined output); raises TimeoutError on timeout
ExecFn = Callable[[list[str], float], Awaitable[tuple[int, str]]]
#: on_result(kind, success, output, threshold_reached)
ResultFn = Callable[[str, bool, str, bool], None]


@dataclass(frozen=True)
class ProbeSpec:
    """A container probe with the API defaults applied."""

    handler: dict
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int
    termination_grace: int | None

    @classmethod
    def parse(cls, probe: dict) -> ProbeSpec:
        def num(key: str, default: int) -> int:
            value = probe.get(key)
            return int(value) if isinstance(value, int) and value > 0 else default

        grace = probe.get("terminationGracePeriodSeconds")
        return cls(
            handler={k: v for k, v in probe.items()
                     if k in ("exec", "tcpSocket", "httpGet", "grpc")},
            initial_delay=max(0, int(probe.get("initialDelaySeconds") or 0)),
            period=num("periodSeconds", 10),
            timeout=num("timeoutSeconds", 1),
            success_threshold=num("successThreshold", 1),
            failure_threshold=num("failureThreshold", 3),
            termination_grace=int(grace) if isinstance(grace, int) else None,
        )


class ProbeWorker:
    """Runs one probe of one container instance on loop timers and reports results."""

    def __init__(self, kind: str, spec: ProbeSpec, run: Callable[[], Awaitable[tuple[bool, str]]],
                 on_result: ResultFn, gate: Callable[[], bool] | None = None) -> None:
        self.kind = kind
        self.spec = spec
        self._run = run
        self._on_result = on_result
        self._gate = gate  # False while the startup probe has not passed
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: bool | None = None
        self._count = 0
        self._stopped = False

    def start(self, delay: float) -> None:
        """Schedule the first probe `delay` seconds from now (the rest of initialDelay)."""
        self._schedule(max(0.0, delay))

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _schedule(self, delay: float) -> None:
        if self._stopped:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._stopped:
            return
        self._task = asyncio.get_running_loop().create_task(self._probe_once())

    async def _probe_once(self) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            if self._gate is None or self._gate():
                ok, output = await self._run()
                self._record(ok, output)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s probe crashed", self.kind)
        if self.kind == STARTUP and self._last and self._count >= self.spec.success_threshold:
            return  # passed: the startup probe never runs again for this instance
        self._schedule(max(0.0, began + self.spec.period - loop.time()))

    def _record(self, ok: bool, output: str) -> None:
        if self._stopped:
            return
        if ok == self._last:
            self._count += 1
        else:
            self._last, self._count = ok, 1
        threshold = self.spec.success_threshold if ok else self.spec.failure_threshold
        reached = self._count >= threshold
        if reached and not ok and self.kind in (LIVENESS, STARTUP):
            self._stopped = True  # on hold until a new instance gets a new worker
        self._on_result(self.kind, ok, output, reached)


# -- handlers ------------------------------------------------------------------------------


async def run_handler(spec: ProbeSpec, pod_ip: str, container: dict,
                      exec_fn: ExecFn) -> tuple[bool, str]:
    """Run the probe's handler once: (success, output for the event message)."""
    handler = spec.handler
    if "exec" in handler:
        argv = [str(a) for a in (handler["exec"] or {}).get("command") or []]
        try:
            code, output = await exec_fn(argv, spec.timeout)
        except TimeoutError:
            return False, f'command "{" ".join(argv)}" timed out'
        return code == 0, output[:MAX_OUTPUT]
    if "tcpSocket" in handler:
        tcp = handler["tcpSocket"] or {}
        host = tcp.get("host") or pod_ip
        port = resolve_port(tcp.get("port"), container)
        return await _tcp(host, port, spec.timeout)
    if "httpGet" in handler:
        return await _http(handler["httpGet"] or {}, pod_ip, container, spec.timeout)
    return False, "grpc probes are not supported by localkube"


def resolve_port(port: object, container: dict) -> int:
    """An int port, or a named container port."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    return -1


def _errno_text(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    return f"connect: {exc.strerror or exc}"


async def _tcp(host: str, port: int, timeout: float) -> tuple[bool, str]:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return False, f"dial tcp {host}:{port}: i/o timeout"
    except OSError as exc:
        return False, f"dial tcp {host}:{port}: {_errno_text(exc)}"
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return True, ""


async def _http(get: dict, pod_ip: str, container: dict, timeout: float) -> tuple[bool, str]:
    host = get.get("host") or pod_ip
    port = resolve_port(get.get("port"), container)
    path = get.get("path") or "/"
    scheme = str(get.get("scheme") or "HTTP").lower()
    url = f"{scheme}://{host}:{port}{path}"
    headers = {"Host": f"{host}:{port}", "User-Agent": "kube-probe/1.32", "Accept": "*/*",
               "Connection": "close"}
    for h in get.get("httpHeaders") or []:
        headers[h.get("name", "")] = h.get("value", "")
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def fetch() -> int:
        ssl = scheme == "https" or None
        reader, writer = await asyncio.open_connection(host, port, ssl=_insecure() if ssl else None)
        try:
            writer.write((request + "\r\n").encode())
            await writer.drain()
            status = (await reader.readline()).decode("latin-1").split()
            return int(status[1]) if len(status) > 1 and status[1].isdigit() else 0
        finally:
            writer.close()

    try:
        code = await asyncio.wait_for(fetch(), timeout)
    except TimeoutError:
        return False, (f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while '
                       "awaiting headers)")
    except OSError as exc:
        return False, f'Get "{url}": dial tcp {host}:{port}: {_errno_text(exc)}'
    if 200 <= code < 400:
        return True, ""
    return False, f"HTTP probe failed with statuscode: {code}"


def _insecure():  # type: ignore[no-untyped-def]
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
