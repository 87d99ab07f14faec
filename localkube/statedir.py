"""Where a running localkube leaves its traces, and what keeps two of them apart.

A state directory holds `localkube.pid`, `kubeconfig` and a lock held for the process's
lifetime (so a second `up` on the same directory fails fast). Pod addresses come from a
127.N.0.0/16 subnet; each running instance holds a lock file per subnet under /run/localkube
(or /tmp/localkube when /run is not writable), so concurrent instances pick different N.
Locks are `flock`s: the kernel drops them when the process dies, so nothing goes stale.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
from pathlib import Path

PID_FILE = "localkube.pid"
KUBECONFIG = "kubeconfig"
LOCK_FILE = "lock"
# 127.0/16 holds 127.0.0.1; the default starts where ClusterConfig's default sits.
SUBNET_CANDIDATES = [*range(77, 255), *range(1, 77)]


class LockBusy(Exception):
    """Someone else holds the lock; `holder` is the pid written into it, if known."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is locked by pid {holder or '?'}")
        self.path = path
        self.holder = holder


def default_state_dir() -> Path:
    """`$XDG_STATE_HOME/localkube`, else `~/.local/state/localkube`."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "localkube"


def lock_dir() -> Path:
    run = Path("/run")
    return run / "localkube" if os.access(run, os.W_OK) else Path("/tmp") / "localkube"


def hold_lock(path: Path) -> int:
    """Take an exclusive flock on `path` for the life of this process; returns the fd."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise LockBusy(path, holder) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    os.set_inheritable(fd, False)
    return fd


def parse_subnet(text: str) -> str:
    """Validate a pod subnet: a /16 inside 127.0.0.0/8 other than 127.0.0.0/16."""
    net = ipaddress.ip_network(text, strict=True)  # ValueError on junk
    if not isinstance(net, ipaddress.IPv4Network) or net.prefixlen != 16 or not net.subnet_of(
        ipaddress.IPv4Network("127.0.0.0/8")
    ):
        raise ValueError(f"{text} is not a /16 inside 127.0.0.0/8")
    if net == ipaddress.IPv4Network("127.0.0.0/16"):
        raise ValueError("127.0.0.0/16 holds 127.0.0.1; pick another 127.N.0.0/16")
    return str(net)


def claim_subnet(requested: str | None) -> tuple[str, int]:
    """Lock `requested`, or the first free 127.N.0.0/16; returns (subnet, lock fd)."""
    directory = lock_dir()
    if requested is not None:
        return requested, hold_lock(directory / f"subnet-{requested.split('/')[0]}.lock")
    for n in SUBNET_CANDIDATES:
        subnet = f"127.{n}.0.0/16"
        try:
            return subnet, hold_lock(directory / f"subnet-127.{n}.0.0.lock")
        except LockBusy:
            continue
    raise LockBusy(directory, "")


def read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def is_localkube(pid: int) -> bool:
    """True when `pid` is alive (not a zombie) and is a localkube process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"
    return state not in ("Z", "X") and b"localkube" in cmdline
