"""The answer a wait condition gives: done or not, and what it saw (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One evaluation of a condition.

    ``detail`` is for humans and ends up in ``WaitTimeout.last_state``, so it should say
    what is still missing, e.g. ``"2/3 pods ready: zk-2 is ContainerCreating"``.
    """

    done: bool
    detail: str = ""

    @classmethod
    def ok(cls, detail: str = "") -> Progress:
        return cls(True, detail)

    @classmethod
    def waiting(cls, detail: str) -> Progress:
        return cls(False, detail)

    def __bool__(self) -> bool:
        return self.done
