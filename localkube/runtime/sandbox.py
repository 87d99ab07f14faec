"""Pod sandboxes: a directory, a loopback address and the pod's name-service files.

A real pod gets a network namespace and kubelet-managed `/etc/hosts`, `/etc/hostname` and
`/etc/resolv.conf`. Here all pods share the host network, so each pod owns one loopback
address (handed out by `LoopbackAllocator`) and the podnet shim makes its processes use it.
The three files live in the sandbox directory and are bind-mounted into every container of
the pod. Cluster DNS is served through the hosts file (glibc's `files` source), because
nothing may send DNS queries off the machine: `resolv.conf` names 127.0.0.1 only.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from localkube.runtime.errors import AddressExhaustedError, SandboxError

DEFAULT_CLUSTER_DOMAIN = "cluster.local"

# The header and loopback block kubelet writes (pkg/kubelet/kubelet_pods.go).
_HOSTS_HEADER = """\
# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
"""


class LoopbackAllocator:
    """Hands out addresses of 127.N.0.0/16, one per pod.

    An address is never handed out again until `release()` is called for it: a process
    of a dead pod may still hold its ports. Fresh addresses are preferred over released
    ones so a just-released address is reused as late as possible.
    """

    def __init__(self, second_octet: int = 1) -> None:
        if not 1 <= second_octet <= 254:
            raise ValueError("second_octet must be within 1..254 (127.0.0.0/16 is the host's)")
        self.network = ipaddress.IPv4Network(f"127.{second_octet}.0.0/16")
        self._next = int(self.network.network_address) + 2
        self._last = int(self.network.broadcast_address) - 1
        self._in_use: set[str] = set()
        self._released: list[str] = []
        self._lock = threading.Lock()

    def allocate(self) -> str:
        with self._lock:
            while self._next <= self._last:
                ip = str(ipaddress.IPv4Address(self._next))
                self._next += 1
                if ip not in self._in_use:
                    self._in_use.add(ip)
                    return ip
            while self._released:
                ip = self._released.pop(0)
                if ip not in self._in_use:
                    self._in_use.add(ip)
                    return ip
        raise AddressExhaustedError(f"no free pod address left in {self.network}")

    def reserve(self, ip: str) -> None:
        """Mark an address as taken (e.g. recovered from a previous run)."""
        if ipaddress.IPv4Address(ip) not in self.network:
            raise ValueError(f"{ip} is not in {self.network}")
        with self._lock:
            self._in_use.add(ip)
            if ip in self._released:
                self._released.remove(ip)

    def release(self, ip: str) -> None:
        with self._lock:
            if ip in self._in_use:
                self._in_use.remove(ip)
                self._released.append(ip)

    def in_use(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._in_use)


@dataclass(frozen=True)
class HostEntry:
    """One cluster DNS record as the hosts file carries it: an address and its names."""

    ip: str
    names: tuple[str, ...]


def search_domains(namespace: str, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN) -> list[str]:
    """The search path kubelet gives a ClusterFirst pod."""
    return [f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain]


def short_names(fqdn: str, domains: Sequence[str]) -> list[str]:
    """Names that resolve to `fqdn` through the search path (what DNS would accept).

    glibc applies the search list only to DNS queries, not to the hosts file, so every
    short form (`zk-cs`, `zk-0.zk-hs`, `zk-cs.default`, ...) is listed explicitly.
    """
    fqdn = fqdn.rstrip(".")
    names = [fqdn]
    for domain in domains:
        suffix = "." + domain
        if fqdn.endswith(suffix) and len(fqdn) > len(suffix):
            short = fqdn[: -len(suffix)]
            if short not in names:
                names.append(short)
    return names


def _normalise_entries(
    entries: Iterable[HostEntry | tuple[str, Sequence[str]]],
) -> list[HostEntry]:
    out = []
    for entry in entries:
        if isinstance(entry, HostEntry):
            out.append(entry)
        else:
            ip, names = entry
            out.append(HostEntry(ip, tuple(names)))
    return out


def _write_in_place(path: Path, content: str) -> None:
    """Replace a file's content keeping its inode (bind mounts pin the inode)."""
    data = content.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


class PodSandbox:
    """The host-side state of one pod: directory, address, hosts/hostname/resolv.conf."""

    def __init__(
        self,
        directory: Path,
        *,
        ip: str,
        name: str,
        namespace: str = "default",
        hostname: str | None = None,
        subdomain: str | None = None,
        cluster_domain: str = DEFAULT_CLUSTER_DOMAIN,
        nameserver: str = "127.0.0.1",
    ) -> None:
        ipaddress.IPv4Address(ip)
        self.directory = directory
        self.ip = ip
        self.name = name
        self.namespace = namespace
        # kubelet: spec.hostname or the pod name, at most 63 characters.
        self.hostname = (hostname or name)[:63].rstrip("-.")
        self.subdomain = subdomain
        self.cluster_domain = cluster_domain
        self.nameserver = nameserver
        self.search = search_domains(namespace, cluster_domain)

    @property
    def fqdn(self) -> str | None:
        if not self.subdomain:
            return None
        return f"{self.hostname}.{self.subdomain}.{self.namespace}.svc.{self.cluster_domain}"

    @property
    def hosts_path(self) -> Path:
        return self.directory / "hosts"

    @property
    def hostname_path(self) -> Path:
        return self.directory / "hostname"

    @property
    def resolv_conf_path(self) -> Path:
        return self.directory / "resolv.conf"

    @property
    def containers_dir(self) -> Path:
        return self.directory / "containers"

    @property
    def logs_dir(self) -> Path:
        return self.directory / "logs"

    def create(self, extra_entries: Iterable[HostEntry | tuple[str, Sequence[str]]] = ()) -> None:
        """Create the directory and write the three files (idempotent)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.containers_dir.mkdir(exist_ok=True)
            self.logs_dir.mkdir(exist_ok=True)
            _write_in_place(self.hostname_path, self.hostname + "\n")
            _write_in_place(self.resolv_conf_path, self.render_resolv_conf())
            _write_in_place(self.hosts_path, self.render_hosts(extra_entries))
        except OSError as exc:
            raise SandboxError(f"cannot prepare pod directory {self.directory}: {exc}") from exc

    def update_hosts(self, extra_entries: Iterable[HostEntry | tuple[str, Sequence[str]]]) -> None:
        """Rewrite the hosts file in place with a new set of cluster DNS records."""
        try:
            _write_in_place(self.hosts_path, self.render_hosts(extra_entries))
        except OSError as exc:
            raise SandboxError(f"cannot update {self.hosts_path}: {exc}") from exc

    def render_hosts(self, extra_entries: Iterable[HostEntry | tuple[str, Sequence[str]]]) -> str:
        lines = [_HOSTS_HEADER]
        if self.fqdn:
            lines.append(f"{self.ip}\t{self.fqdn}\t{self.hostname}\n")
        else:
            lines.append(f"{self.ip}\t{self.hostname}\n")
        entries = _normalise_entries(extra_entries)
        if entries:
            lines.append("\n# Cluster DNS records (localkube).\n")
            for entry in entries:
                names: list[str] = []
                for name in entry.names:
                    for alias in short_names(name, self.search):
                        if alias not in names:
                            names.append(alias)
                if names:
                    lines.append(f"{entry.ip}\t{' '.join(names)}\n")
        return "".join(lines)

    def render_resolv_conf(self) -> str:
        return f"search {' '.join(self.search)}\nnameserver {self.nameserver}\noptions ndots:5\n"

    def container_dir(self, container_name: str, instance: int) -> Path:
        return self.containers_dir / f"{container_name}-{instance}"

    def log_path(self, container_name: str, instance: int) -> Path:
        """kubelet's layout: <pod log dir>/<container>/<restart count>.log."""
        return self.logs_dir / container_name / f"{instance}.log"

    def remove(self) -> None:
        """Delete the pod directory; call only after every container has exited."""
        shutil.rmtree(self.directory, ignore_errors=True)
