"""Managing the ensemble: a rolling update of the CPU request, then ``rollout undo``.

Tutorial section: "Managing the ensemble". What this drill checks:

- ``kubectl patch sts zk --type=json`` sets the CPU request to ``0.3`` (``replace``, or ``add``
  where the template requests no CPU); the controller makes a new ControllerRevision;
- the pods are replaced zk-2, zk-1, zk-0, one at a time, each replacement Running and Ready
  before the next pod goes (read from the watched pod timeline), and ``rollout status``
  completes with every pod requesting 300m;
- ``kubectl rollout history`` shows two revisions (ControllerRevisions owned by the set);
- ``kubectl rollout undo`` rolls back: the pods are replaced again and every pod requests the
  manifest's CPU again (``500m``; none where it requested none);
- throughout, at least a quorum of servers was Running and Ready, the workload had writes
  accepted while each follower was being replaced (the leader's replacement costs an
  election, bounded by the step's budget), and no acknowledged write was lost; every
  sentinel is on every server.
"""

from __future__ import annotations

import pytest

from harness.drill import (
    Drill,
    DrillFailure,
    cpu_millis,
    expected_update_order,
    fewest_ready,
    quorum_size,
    statefulset_rolled_out,
    update_order,
)

pytestmark = [pytest.mark.update, pytest.mark.destructive]

NEW_CPU = "0.3"


def test_rolling_update_and_rollback(drill: Drill) -> None:
    name = drill.target.statefulset
    if drill.statefulset().update_strategy != "RollingUpdate":
        raise DrillFailure(f"statefulset {name} uses updateStrategy "
                           f"{drill.statefulset().update_strategy}: a patched template "
                           "replaces no pod until each is deleted by hand; the tutorial's "
                           "rolling update needs RollingUpdate")
    container = drill.statefulset().container(drill.target.container)
    patch = container.cpu_request_patch(NEW_CPU)
    before = _pods_before(drill)
    with drill.step(f"kubectl patch sts {name} --type=json -p '{patch}'", disturbs=drill.names):
        patched = drill.faults.patch_template(name, patch)
        old_cpu = container.cpu_request
        drill.note("revisions", True, f"{patched.previous_revision} -> {patched.revision}")
    _roll(drill, f"kubectl rollout status sts/{name}", NEW_CPU, before)
    with drill.step(f"kubectl rollout history sts/{name}: two revisions"):
        history = drill.revisions()
        shown = [f"{r['metadata']['name']} (revision {r.get('revision')})" for r in history]
        drill.note("rollout history", len(history) == 2, ", ".join(shown))
        assert len(history) == 2, f"expected revisions 1 and 2, found {shown}"
    before = _pods_before(drill)
    with drill.step(f"kubectl rollout undo sts/{name}", disturbs=drill.names):
        drill.rollout_undo()
    _roll(drill, "rollout status after the undo", old_cpu, before)
    with drill.step("restore the template recorded before the patch (already equal)"):
        drill.note("undo", True, patched.undo())
    with drill.step("every sentinel on every server"):
        drill.zk.check_sentinels()


def _pods_before(drill: Drill) -> tuple[dict[str, str], int]:
    """The pods' uids and the timeline position before the step that starts a rollout."""
    current = drill.pods.current()
    return {n: current[n].uid for n in drill.names if n in current}, drill.pods.last_seq


def _roll(drill: Drill, title: str, cpu: str | None, before: tuple[dict[str, str], int]
          ) -> None:
    """Wait for the rollout, then check its order, its quorum, its writes and its CPU."""
    names = drill.names
    old_uids, since = before
    with drill.step(title, disturbs=names):
        drill.wait(statefulset_rolled_out(drill.pods, drill.objects, drill.target.statefulset))
    events = drill.pods.events(since)
    expected = [names[i] for i in expected_update_order(len(names))]
    with drill.step(f"pods replaced {', '.join(expected)}, one at a time, each Ready before "
                    "the next"):
        order = update_order(events, expected, old_uids)
        for line in order.evidence():
            drill.note("replacement", order.ok, line)
        assert order.ok, "; ".join(order.problems)
        lowest, at = fewest_ready(events, names, initially_ready=names)
        need = quorum_size(len(names))
        drill.note("fewest Running and Ready", lowest >= need,
                   f"{lowest} of {len(names)}" + (f" at {at.row()}" if at else ""))
        assert lowest >= need, f"only {lowest} pods were Ready at {at.row() if at else '?'}"
        for r in order.replacements:
            accepted = drill.workload.acked_between(r.went.mono, r.ready.mono)
            role = drill.role_at(r.pod, r.went.mono)
            # a follower's replacement must not stop writes; the leader's costs an election,
            # which the step's budget bounds (it may outlast the replacement)
            drill.note(f"writes while {r.pod} ({role}) was replaced",
                       accepted > 0 or role == "leader", str(accepted))
            assert accepted > 0 or role == "leader", (
                f"no write was accepted while {r.pod}, a {role}, was being replaced")
    if cpu is None:
        with drill.step("no pod requests CPU, as the manifest says"):
            for pod in names:
                got = drill.container_cpu(pod)
                assert got is None, f"{pod} requests {got} CPU, expected no request"
        return
    with drill.step(f"every pod requests {cpu} CPU"):
        for pod in names:
            got = drill.container_cpu(pod)
            assert got is not None and cpu_millis(got) == cpu_millis(cpu), (
                f"{pod} requests {got} CPU, expected {cpu_millis(cpu)}m")
