"""Quorum math and the "one leader, the rest followers" ensemble check (pure, no I/O).

Modes come from ``srvr``/``mntr`` (``leader``, ``follower``, ``standalone``, ...) or are one of
the pseudo-modes the zk layer reports when it cannot get one: ``fourletter.NOT_SERVING``
(the process answers but has no quorum) and ``UNREACHABLE`` (nothing answers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from harness.model.fourletter import FOLLOWER, LEADER, STANDALONE
from harness.model.progress import Progress

UNREACHABLE = "unreachable"  # nothing answered; NOT_SERVING lives in harness.model.fourletter


def quorum_size(voters: int) -> int:
    """Servers that must agree: a strict majority (2 of 3, 3 of 5)."""
    if voters < 1:
        raise ValueError(f"an ensemble has at least one server, got {voters}")
    return voters // 2 + 1


def tolerated_failures(voters: int) -> int:
    """Servers that may be down while the ensemble still serves (1 of 3, 2 of 5)."""
    return voters - quorum_size(voters)


def has_quorum(serving: int, voters: int) -> bool:
    return serving >= quorum_size(voters)


@dataclass(frozen=True)
class EnsembleHealth:
    """Verdict on one observation of every server's mode."""

    healthy: bool
    leader: str | None
    followers: tuple[str, ...]
    problems: tuple[str, ...]
    modes: Mapping[str, str]

    @property
    def detail(self) -> str:
        """One line for logs and ``WaitTimeout``: who leads, who follows, what is wrong."""
        parts = [f"leader {self.leader or 'none'}"]
        if self.followers:
            parts.append("followers " + ", ".join(self.followers))
        if self.problems:
            parts.append("problems: " + "; ".join(self.problems))
        return "; ".join(parts)

    def as_progress(self) -> Progress:
        return Progress(self.healthy, self.detail)


def assess_ensemble(modes: Mapping[str, str], expected: int) -> EnsembleHealth:
    """Is this a healthy ensemble of ``expected`` servers?

    Healthy means: every expected server reported, exactly one leader and all others
    followers; a one-server ensemble must be ``standalone``. ``modes`` maps a server name
    (pod name, address) to its mode or pseudo-mode.
    """
    problems: list[str] = []
    if len(modes) != expected:
        problems.append(f"expected {expected} servers, got {len(modes)}")
    leaders = [name for name, mode in modes.items() if mode == LEADER]
    followers = tuple(name for name, mode in modes.items() if mode == FOLLOWER)
    if expected == 1:
        problems += [
            f"{n} is {m}, expected standalone" for n, m in modes.items() if m != STANDALONE
        ]
    else:
        if not leaders:
            problems.append("no leader")
        elif len(leaders) > 1:
            problems.append(f"{len(leaders)} leaders: {', '.join(leaders)}")
        problems += [
            f"{name} is {mode}" for name, mode in modes.items() if mode not in (LEADER, FOLLOWER)
        ]
    return EnsembleHealth(
        healthy=not problems,
        leader=leaders[0] if len(leaders) == 1 else None,
        followers=followers,
        problems=tuple(problems),
        modes=MappingProxyType(dict(modes)),
    )
