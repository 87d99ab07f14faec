"""The `localkube` command: `up` runs a cluster in the foreground, `down` stops it,
`node stop|start NAME` switches one of its simulated machines off and on.

`up` prints nothing on stdout; logs go to stderr (or `--log-file`). Problems the user can fix
(missing tools, a port in use, an instance already running on the state directory) are one
line on stderr and a non-zero exit, never a traceback: 2 for preflight and usage errors,
1 for everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import re
import secrets
import select
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from localkube import certs, kubeconfig, preflight, statedir
from localkube.apimachinery.quantity import QuantityError, parse_quantity

if TYPE_CHECKING:
    from localkube.cluster import Cluster, Component

log = logging.getLogger("localkube")


class UserError(Exception):
    """A one-line, user-fixable failure; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# -- argument parsing ------------------------------------------------------------------------


def _quantity(text: str) -> str:
    try:
        if parse_quantity(text).nanos <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    except QuantityError as exc:
        raise argparse.ArgumentTypeError(f"not a Kubernetes quantity: {text!r}") from exc
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def _duration(text: str) -> float:
    """A Go duration as kube flags take it (`50s`, `500ms`, `1m30s`); bare seconds too."""
    try:
        value = parse_go_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (`time.ParseDuration`); ValueError if malformed."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(text)
    return sum(float(n) * units[u] for n, u in parts)


def _subnet(text: str) -> str:
    try:
        return statedir.parse_subnet(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localkube", description="A process-based local Kubernetes for offline drills."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{up,down,node}")
    state_help = f"state directory (default {statedir.default_state_dir()})"

    up = sub.add_parser("up", help="run a cluster in the foreground until SIGTERM/SIGINT")
    up.add_argument("--nodes", type=_positive, default=4, help="simulated nodes (default 4)")
    up.add_argument("--kubeconfig", type=Path, default=None,
                    help="kubeconfig to write or update (default: <state-dir>/kubeconfig)")
    up.add_argument("--state-dir", type=Path, default=None, help=state_help)
    up.add_argument("--port", type=_port, default=0,
                    help="API server port on 127.0.0.1 (default 0: a free port)")
    up.add_argument("--node-cpu", type=_quantity, default="2", help="CPU per node (default 2)")
    up.add_argument("--node-memory", type=_quantity, default="4Gi",
                    help="memory per node (default 4Gi)")
    up.add_argument("--subnet", type=_subnet, default=None,
                    help="pod addresses, a 127.N.0.0/16 (default: the first one no other "
                         "localkube holds)")
    up.add_argument("--no-kubelets", action="store_true",
                    help="control plane only: no containers run (no root or tools needed)")
    up.add_argument("--watch-history", type=_positive, default=20000,
                    help="changes kept for watch resume; older resourceVersions get "
                         "410 Expired (default 20000)")
    up.add_argument("--node-monitor-grace-period", type=_duration, default=50.0,
                    metavar="DURATION",
                    help="kube-controller-manager's: a node whose kubelet was silent this long "
                         "becomes NotReady/Unknown (default 50s)")
    up.add_argument("--node-monitor-period", type=_duration, default=5.0, metavar="DURATION",
                    help="kube-controller-manager's: how often node health is checked "
                         "(default 5s)")
    up.add_argument("--node-eviction-rate", type=_non_negative_float, default=0.1,
                    metavar="RATE",
                    help="kube-controller-manager's: nodes NoExecute-tainted per second "
                         "(default 0.1)")
    up.add_argument("--default-not-ready-toleration-seconds", type=_seconds, default=300,
                    metavar="SECONDS",
                    help="kube-apiserver's: tolerationSeconds of the not-ready:NoExecute "
                         "toleration added to every pod without one (default 300)")
    up.add_argument("--default-unreachable-toleration-seconds", type=_seconds, default=300,
                    metavar="SECONDS",
                    help="kube-apiserver's: tolerationSeconds of the unreachable:NoExecute "
                         "toleration added to every pod without one (default 300)")
    up.add_argument("--log-file", type=Path, default=None, help="log here instead of stderr")
    up.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    down = sub.add_parser("down", help="stop the localkube running on a state directory")
    down.add_argument("--state-dir", type=Path, default=None, help=state_help)
    down.add_argument("--timeout", type=float, default=30.0,
                      help="seconds to wait after SIGTERM before SIGKILL (default 30)")

    node = sub.add_parser("node", help="switch a simulated node off (power loss) or on (boot)")
    node.add_argument("action", choices=("stop", "start"))
    node.add_argument("name", help="node name, e.g. node-2")
    node.add_argument("--state-dir", type=Path, default=None, help=state_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "up":
            return up(args)
        if args.command == "node":
            return node(args)
        return down(args)
    except UserError as exc:
        print(f"localkube: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


# -- up --------------------------------------------------------------------------------------


def up(args: argparse.Namespace) -> int:
    _setup_logging(args.log_file, args.verbose)
    if not args.no_kubelets:
        lines = preflight.problems()
        if lines:
            print("\n".join(lines), file=sys.stderr)
            return 2
    state_dir = (args.state_dir or statedir.default_state_dir()).expanduser().resolve()
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        statedir.hold_lock(state_dir / statedir.LOCK_FILE)
    except statedir.LockBusy as exc:
        raise UserError(
            f"already running on {state_dir} (pid {exc.holder or '?'}); "
            f"stop it with 'localkube down --state-dir {state_dir}'"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot use state directory {state_dir}: {exc.strerror}") from None
    try:
        subnet, _ = statedir.claim_subnet(args.subnet)
    except statedir.LockBusy as exc:
        raise UserError(
            f"subnet {args.subnet} is in use by another localkube (pid {exc.holder or '?'}); "
            "pick another --subnet" if args.subnet else "no free 127.N.0.0/16 subnet left"
        ) from None
    from localkube.apiserver.app import bind

    try:
        tls = certs.ensure(state_dir / "pki")
    except certs.CertError as exc:
        raise UserError(str(exc), 2) from None
    try:
        sock = bind("127.0.0.1", args.port)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise UserError(f"cannot listen on 127.0.0.1:{args.port}: {reason}") from None
    return asyncio.run(_serve(args, state_dir, subnet, sock, tls))


async def _serve(
    args: argparse.Namespace, state_dir: Path, subnet: str, sock: socket.socket,
    tls: certs.Certs,
) -> int:
    from localkube.apiserver.app import ApiServer
    from localkube.cluster import Cluster, ClusterConfig
    from localkube.controllers import build_controllers
    from localkube.nodes import build as build_node_heartbeats

    started = time.monotonic()
    config = ClusterConfig(
        state_dir=state_dir, nodes=args.nodes, node_cpu=args.node_cpu,
        node_memory=args.node_memory, subnet=subnet, run_kubelets=not args.no_kubelets,
        watch_history=args.watch_history,
        node_monitor_grace_period=args.node_monitor_grace_period,
        node_monitor_period=args.node_monitor_period,
        node_eviction_rate=args.node_eviction_rate,
        default_not_ready_toleration_seconds=args.default_not_ready_toleration_seconds,
        default_unreachable_toleration_seconds=args.default_unreachable_toleration_seconds,
    )
    cluster = Cluster(config)
    cluster.bootstrap()
    cluster.add(build_controllers(cluster))
    cluster.add(build_node_heartbeats(cluster))
    if config.run_kubelets:
        cluster.add(_kubelets(cluster))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    cluster.start()
    server = ApiServer(cluster, secrets.token_urlsafe(32), sock, tls.server_context())
    await server.start()
    pid_file = state_dir / statedir.PID_FILE
    try:
        token = server.context.token
        for path in (state_dir / statedir.KUBECONFIG, args.kubeconfig):
            if path is not None:
                kubeconfig.write(path, server.url, token, tls.ca_pem)
        pid_file.write_text(f"{os.getpid()}\n")
        server.set_ready()
        log.info("ready at %s in %.2fs (%d nodes, pods in %s, kubelets %s); kubeconfig %s",
                 server.url, time.monotonic() - started, args.nodes, subnet,
                 "on" if config.run_kubelets else "off",
                 args.kubeconfig or state_dir / statedir.KUBECONFIG)
        await stop.wait()
        log.info("stopping")
    finally:
        server.set_ready(False)
        await cluster.stop()
        await server.stop()
        pid_file.unlink(missing_ok=True)
    log.info("stopped")
    return 0


def _kubelets(cluster: Cluster) -> list[Component]:
    """Imported here so that `up --no-kubelets` never loads the container runtime."""
    from localkube.kubelet import build_kubelets

    return list(build_kubelets(cluster))


def _setup_logging(log_file: Path | None, verbose: bool) -> None:
    handler: logging.Handler
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("aiohttp").setLevel(logging.WARNING)


# -- node ------------------------------------------------------------------------------------


def node(args: argparse.Namespace) -> int:
    from localkube.nodectl import NodeCtlError, switch

    state_dir = (args.state_dir or statedir.default_state_dir()).expanduser().resolve()
    try:
        message = switch(state_dir, args.name, args.action)
    except NodeCtlError as exc:
        raise UserError(str(exc)) from None
    print(f"localkube: {message}", file=sys.stderr)
    return 0


# -- down ------------------------------------------------------------------------------------


def down(args: argparse.Namespace) -> int:
    state_dir = (args.state_dir or statedir.default_state_dir()).expanduser().resolve()
    pid = statedir.read_pid(state_dir)
    if pid is None or not statedir.is_localkube(pid):
        if pid is not None:
            (state_dir / statedir.PID_FILE).unlink(missing_ok=True)
        print(f"localkube: not running (state dir {state_dir})", file=sys.stderr)
        return 0
    os.kill(pid, signal.SIGTERM)
    if not _wait_exit(pid, args.timeout):
        print(f"localkube: pid {pid} did not stop within {args.timeout:g}s; killing it",
              file=sys.stderr)
        os.kill(pid, signal.SIGKILL)
        _wait_exit(pid, 10.0)
        (state_dir / statedir.PID_FILE).unlink(missing_ok=True)
    print(f"localkube: stopped (pid {pid})", file=sys.stderr)
    return 0


def _wait_exit(pid: int, timeout: float) -> bool:
    """Wait for `pid` to exit (a pidfd becomes readable when it does)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(max(0.0, timeout) * 1000))
    finally:
        os.close(fd)
