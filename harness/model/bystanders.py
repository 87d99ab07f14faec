"""Which pods a step changed that it did not say it would (pure, no I/O).

A drill step declares the pods it may disturb; every other pod of the ensemble is a
bystander and must come out of the step as it went in: the same pod (uid), on the same
node, with the same restart count and the same readiness. A change there is a finding
(the fault reached further than the drill meant, or something else moved the pods).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from harness.model.pod_status import PodSnapshot


def _state(snap: PodSnapshot | None) -> tuple[str, str, int, bool] | None:
    if snap is None:
        return None
    return (snap.uid, snap.node or "", snap.restarts, snap.ready and not snap.deleting)


def bystander_changes(
    names: Sequence[str],
    before: Mapping[str, PodSnapshot],
    after: Mapping[str, PodSnapshot],
    disturbs: Collection[str],
) -> list[str]:
    """One line per undeclared pod that changed, naming what changed."""
    problems = []
    for name in names:
        if name in disturbs:
            continue
        was, now = before.get(name), after.get(name)
        if _state(was) == _state(now):
            continue
        if was is None or now is None:
            seen = now if was is None else was
            assert seen is not None  # the states differ, so one of them exists
            problems.append(f"{name} {'appeared' if was is None else 'disappeared'}"
                            f" ({seen.row()})")
            continue
        what = []
        if was.uid != now.uid:
            what.append(f"replaced (uid {was.uid[:8]} -> {now.uid[:8]})")
        if (was.node or "") != (now.node or ""):
            what.append(f"moved from {was.node or '(no node)'} to {now.node or '(no node)'}")
        if was.restarts != now.restarts:
            what.append(f"restarts {was.restarts} -> {now.restarts}")
        if (was.ready and not was.deleting) != (now.ready and not now.deleting):
            what.append(f"{was.row()} -> {now.row()}")
        problems.append(f"{name}: " + ", ".join(what))
    return problems
