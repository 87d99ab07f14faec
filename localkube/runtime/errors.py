"""Errors raised by the container runtime.

Expected failures (a missing compiler, a volume that cannot be mounted, exec into a
stopped container, a probe that times out) are reported with these types and a one-line
message meant for a Kubernetes status or event; callers never need a traceback to
understand them.
"""

from __future__ import annotations


class ContainerRuntimeError(Exception):
    """Base of every error the runtime raises on purpose."""


class NativeBuildError(ContainerRuntimeError):
    """The C helpers (init, network shim) could not be compiled."""


class AddressExhaustedError(ContainerRuntimeError):
    """The loopback allocator has no free address left in its subnet."""


class SandboxError(ContainerRuntimeError):
    """The pod sandbox (its directory and files) could not be prepared."""


class ContainerCreateError(ContainerRuntimeError):
    """The container's file system or namespaces could not be set up.

    Maps to the kubelet's `CreateContainerError`/`RunContainerError` waiting reasons.
    """


class ContainerStateError(ContainerRuntimeError):
    """The operation does not fit the container's state (e.g. exec into an exited one)."""


class ExecTimeout(ContainerRuntimeError, TimeoutError):
    """An exec'd command outlived its timeout and was killed with its process tree.

    Also a `TimeoutError`, so probe code can treat it like any other timeout.
    """

    def __init__(self, argv: list[str], timeout: float, stdout: bytes, stderr: bytes) -> None:
        super().__init__(f"command {argv!r} timed out after {timeout:g}s")
        self.argv = argv
        self.timeout = timeout
        self.stdout = stdout
        self.stderr = stderr


class LogNotFoundError(ContainerRuntimeError):
    """The requested container log (current or previous instance) does not exist."""
