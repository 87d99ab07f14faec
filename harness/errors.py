"""The harness's own exception tree.

Pure: no I/O and no third-party imports, so every layer (model, waits, kube, zk, plugin) may
raise these. A library exception that caused one is chained as ``__cause__``
(``raise ClusterError(...) from exc``) so the report shows both.

    HarnessError
    ├── ConfigError            bad user input: one line + a fix hint
    │   └── SafetyRefusal      destructive drill against a real cluster without the opt-in
    ├── ClusterError           the Kubernetes API failed or refused (kube layer)
    ├── ZooKeeperError         a ZooKeeper server could not be asked (names host:port)
    │   ├── FourLetterWordError  TCP failure or unexpected reply to ruok/srvr/mntr/...
    │   ├── AdminServerError     HTTP failure or unexpected reply from the AdminServer (:8080)
    │   ├── NotServing           "This ZooKeeper instance is not currently serving requests"
    │   ├── CommandNotAllowed    four-letter word not in 4lw.commands.whitelist
    │   └── ZkSessionError       kazoo could not connect or a call failed
    ├── WaitTimeout            a condition did not come true in time (carries the last state)
    └── DrillFailure           the system under test did not do what the tutorial says
        ├── StabilityLost      a condition that had to stay true became false
        └── PodCannotStart     a pod is stuck for a reason waiting will not fix
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""


class ConfigError(HarnessError):
    """Bad user input (option, ini value, environment variable, profile name).

    Renders as one line: the problem, then how to fix it, so it reads well in a pytest
    usage error at 3 a.m.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} (fix: {hint})")


class SafetyRefusal(ConfigError):
    """A destructive drill was asked for on a real cluster without the explicit opt-in."""


class ClusterError(HarnessError):
    """The Kubernetes API failed, refused, or returned something the harness cannot use."""


class ZooKeeperError(HarnessError):
    """A ZooKeeper server could not be asked. ``address`` is ``host:port``."""

    def __init__(self, address: str, message: str) -> None:
        self.address = address
        super().__init__(f"{address}: {message}")


class FourLetterWordError(ZooKeeperError):
    """A four-letter word failed on the wire (refused, timed out, reset) or got garbage back."""


class AdminServerError(ZooKeeperError):
    """An AdminServer command failed on the wire (refused, timed out, HTTP error) or got
    something other than its JSON back, or the server answered with an ``error``."""


class NotServing(ZooKeeperError):
    """The server process answers but has no quorum (or is still starting)."""

    def __init__(self, address: str) -> None:
        super().__init__(address, "not currently serving requests (no quorum?)")


class CommandNotAllowed(ZooKeeperError):
    """The server refuses the word: it is missing from ``4lw.commands.whitelist``."""

    def __init__(self, address: str, word: str) -> None:
        self.word = word
        super().__init__(address, f"{word!r} is not in the server's 4lw.commands.whitelist")


class ZkSessionError(ZooKeeperError):
    """kazoo could not open a session to this server, or a call on it failed."""


class WaitTimeout(HarnessError):
    """A condition did not come true before its deadline.

    ``last_state`` is the last human detail the condition reported, so a failure says what
    the cluster looked like, not just that time ran out.
    """

    def __init__(self, description: str, timeout: float, last_state: str) -> None:
        self.description = description
        self.timeout = timeout
        self.last_state = last_state
        super().__init__(
            f"timed out after {timeout:.1f}s waiting for {description}; last observed: {last_state}"
        )


class DrillFailure(HarnessError, AssertionError):
    """The system under test did not behave as the tutorial says (data lost, wrong order...).

    Also an ``AssertionError`` so it reads as a failed expectation, not a harness crash.
    """


class StabilityLost(DrillFailure):
    """A condition that had to hold for a whole window stopped holding."""

    def __init__(self, description: str, held_for: float, window: float, detail: str) -> None:
        self.description = description
        self.held_for = held_for
        self.window = window
        self.detail = detail
        super().__init__(
            f"{description} stopped holding after {held_for:.1f}s of the required "
            f"{window:.1f}s; observed: {detail}"
        )


class PodCannotStart(DrillFailure):
    """A wait for a pod gave up early: it is stuck for a reason that waiting will not fix
    (an image that cannot be pulled, a container that cannot be configured, a crash loop, no
    node that can take it). ``pod`` names it so the caller can add its events."""

    def __init__(self, pod: str, description: str) -> None:
        self.pod = pod
        super().__init__(description)
