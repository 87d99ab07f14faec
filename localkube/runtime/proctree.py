"""Killing a process tree without leaving anything behind.

Used for exec'd commands (probes) that outlive their timeout. The tree is first frozen
with SIGSTOP, level by level until no new descendant appears, so nothing can fork or
get reparented away while it is being killed; then everything gets SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def children(pid: int) -> list[int]:
    """Direct children of `pid` (all threads), from /proc/<pid>/task/*/children."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    queue = children(pid)
    while queue:
        child = queue.pop()
        if child in out:
            continue
        out.append(child)
        queue.extend(children(child))
    return out


def kill_tree(pid: int) -> None:
    """SIGKILL `pid` and all of its descendants."""
    stopped: set[int] = set()
    while True:
        tree = {pid, *descendants(pid)}
        new = tree - stopped
        if not new:
            break
        for p in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGSTOP)
        stopped |= new
    for p in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
