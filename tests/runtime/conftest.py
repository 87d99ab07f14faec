"""Fixtures for the container runtime tests: real namespaces, real processes, no mocks.

`kit` builds sandboxes and containers in a per-test directory and, after the test,
checks that nothing is left: no process in any of the test's PID namespaces, no mount
of the test's directories in the host's mount table.

Also usable as a plugin (`-p tests.runtime.conftest`) when conftest files are disabled.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from localkube.images import Image, pull_image
from localkube.runtime import (
    Container,
    ContainerSpec,
    LoopbackAllocator,
    NativeTools,
    PodSandbox,
    ensure_native,
)

T = TypeVar("T")


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "the container runtime needs root (namespaces, mounts, setuid)"
    for tool in ("unshare", "nsenter", "setpriv", "gcc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _zookeeper_missing() -> str | None:
    if not Path("/usr/share/java/zookeeper.jar").exists():
        return "Debian's zookeeper package is not installed (apt-get install zookeeper)"
    if shutil.which("nc") is None:
        return "nc is not installed (apt-get install netcat-openbsd)"
    return None


def require_runtime() -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)


def require_zookeeper() -> None:
    require_runtime()
    reason = _zookeeper_missing()
    if reason:
        pytest.skip(reason)


async def eventually(
    condition: Callable[[], Awaitable[T]], what: str, timeout: float = 20.0, interval: float = 0.05
) -> T:
    """Poll an async condition until it returns something truthy, or fail saying `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = await condition()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} ({last!r})")
        await asyncio.sleep(interval)


def wait_sync(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def runtime_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache (compiled helpers, image layers) for the whole session."""
    return tmp_path_factory.mktemp("lk-cache")


@pytest.fixture(scope="session")
def native(runtime_cache: Path) -> NativeTools:
    require_runtime()
    return ensure_native(runtime_cache)


@pytest.fixture(scope="session")
def zk_image(runtime_cache: Path) -> Image:
    require_zookeeper()
    return pull_image("k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10", runtime_cache)


@pytest.fixture(scope="session")
def nginx_image(runtime_cache: Path) -> Image:
    require_runtime()
    return pull_image("registry.k8s.io/nginx-slim:0.8", runtime_cache)


@pytest.fixture(scope="session")
def allocator() -> LoopbackAllocator:
    # A subnet per test session, so parallel sessions on one machine do not collide.
    return LoopbackAllocator(200 + os.getpid() % 50)


def _ns(pid: int, kind: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def processes_in_namespaces(namespaces: set[str]) -> list[int]:
    """Host pids of every process whose PID or mount namespace is one of `namespaces`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if _ns(pid, "pid") in namespaces or _ns(pid, "mnt") in namespaces:
            found.append(pid)
    return found


@dataclass
class RuntimeKit:
    """Builds sandboxes and containers for one test and remembers them for the checks."""

    root: Path
    cache: Path
    tools: NativeTools
    allocator: LoopbackAllocator
    containers: list[Container] = field(default_factory=list)
    namespaces: set[str] = field(default_factory=set)
    sandboxes: list[PodSandbox] = field(default_factory=list)

    def sandbox(
        self,
        name: str,
        *,
        subdomain: str | None = None,
        namespace: str = "default",
        entries: list[tuple[str, list[str]]] | None = None,
    ) -> PodSandbox:
        sandbox = PodSandbox(
            self.root / "pods" / name,
            ip=self.allocator.allocate(),
            name=name,
            namespace=namespace,
            hostname=name,
            subdomain=subdomain,
        )
        sandbox.create(entries or [])
        self.sandboxes.append(sandbox)
        return sandbox

    def volume(self, name: str) -> Path:
        path = self.root / "volumes" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def container(self, sandbox: PodSandbox, spec: ContainerSpec, instance: int = 0) -> Container:
        container = Container(spec, sandbox, instance=instance, tools=self.tools)
        self.containers.append(container)
        return container

    async def start(self, container: Container) -> Container:
        await container.start()
        assert container.pid is not None
        for kind in ("pid", "mnt"):
            ns = _ns(container.pid, kind)
            if ns:
                self.namespaces.add(ns)
        return container

    def run(self, scenario: Callable[[], Awaitable[T]]) -> T:
        """Run an async scenario; containers still running at the end are killed."""

        async def main() -> T:
            try:
                return await scenario()
            finally:
                for container in self.containers:
                    if container.running:
                        await container.stop(0)

        return asyncio.run(main())


@pytest.fixture
def kit(
    tmp_path: Path, runtime_cache: Path, native: NativeTools, allocator: LoopbackAllocator
) -> Iterator[RuntimeKit]:
    kit = RuntimeKit(tmp_path, runtime_cache, native, allocator)
    yield kit
    for sandbox in kit.sandboxes:
        allocator.release(sandbox.ip)
    leftovers = processes_in_namespaces(kit.namespaces)
    assert not leftovers, f"processes left in the test's containers: {leftovers}"
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(tmp_path) not in mounts, "a container mount leaked into the host namespace"
    for container in kit.containers:
        assert not container.directory.exists(), f"{container.directory} was not cleaned up"
