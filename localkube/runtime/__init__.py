"""localkube's container runtime: pod sandboxes, containers, exec and logs.

No Kubernetes API code lives here; the kubelet drives it:

    sandbox = PodSandbox(dir, ip=allocator.allocate(), name="zk-0", namespace="default",
                         hostname="zk-0", subdomain="zk-hs")
    sandbox.create(extra_entries)            # later: sandbox.update_hosts(entries)
    container = Container(spec, sandbox, instance=restart_count)
    await container.start()                  # ContainerCreateError on setup failure
    code = await container.wait()            # or: await container.stop(grace)
    result = await run_exec(container, ["sh", "-c", "zookeeper-ready 2181"], timeout=5)
    text = read_log(sandbox.log_path("zk", 0), LogOptions(tail_lines=20))

Everything runs as root on Linux with util-linux (unshare, nsenter, setpriv) and gcc.
"""

from localkube.runtime.container import Container, State
from localkube.runtime.errors import (
    AddressExhaustedError,
    ContainerCreateError,
    ContainerRuntimeError,
    ContainerStateError,
    ExecTimeout,
    LogNotFoundError,
    NativeBuildError,
    SandboxError,
)
from localkube.runtime.exec import ExecResult, ExecSession, run_exec, start_exec
from localkube.runtime.logs import (
    LogOptions,
    find_log,
    follow_log,
    prune_logs,
    read_log,
)
from localkube.runtime.native import NativeTools, default_cache_dir, ensure_native
from localkube.runtime.sandbox import HostEntry, LoopbackAllocator, PodSandbox, short_names
from localkube.runtime.spec import ContainerSpec, ProcessConfig, VolumeMount
from localkube.runtime.volumes import apply_fs_group

__all__ = [
    "AddressExhaustedError",
    "Container",
    "ContainerCreateError",
    "ContainerRuntimeError",
    "ContainerSpec",
    "ContainerStateError",
    "ExecResult",
    "ExecSession",
    "ExecTimeout",
    "HostEntry",
    "LogNotFoundError",
    "LogOptions",
    "LoopbackAllocator",
    "NativeBuildError",
    "NativeTools",
    "PodSandbox",
    "ProcessConfig",
    "SandboxError",
    "State",
    "VolumeMount",
    "apply_fs_group",
    "default_cache_dir",
    "ensure_native",
    "find_log",
    "follow_log",
    "prune_logs",
    "read_log",
    "run_exec",
    "short_names",
    "start_exec",
]
