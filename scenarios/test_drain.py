"""Surviving maintenance: drain nodes one after another against the PodDisruptionBudget.

Tutorial section: "Surviving maintenance". What this drill checks, on four schedulable
nodes (any others are cordoned first and uncordoned at the end):

- ``kubectl get pdb``: the budget allows one disruption;
- draining zk-0's node evicts zk-0, which comes back on the free node, Running and Ready;
- draining zk-1's node evicts zk-1, which stays Pending: the anti-affinity rule leaves no
  node for it (``PodScheduled=False``, Unschedulable, "anti-affinity" in the reason);
- draining zk-2's node is refused with the PDB's message, and the eviction stays refused
  for a bounded window while zk-1 is down; zk-0 and zk-2 keep serving (``/hello`` still
  reads ``world``, every sentinel is there);
- uncordoning zk-0's first node lets zk-1 be scheduled there and become Ready;
- draining zk-2's node now succeeds, and after uncordoning zk-1's first node zk-2 runs there;
- uncordon everything: 3/3 Ready, one leader, all data on every server; throughout, the
  workload's writes stay within one election's budget and none is lost.

``--target`` picks which server's node is drained first (the others follow in order).
"""

from __future__ import annotations

import pytest

from harness.drill import (
    PDB_REFUSAL,
    DrainOptions,
    Drill,
    DrillFailure,
    StabilityLost,
    budget_allows,
    eviction_refused,
    pod_placed,
    pod_running_ready,
    pod_unschedulable,
    ready_elsewhere,
    wait_until_stable,
)

pytestmark = [pytest.mark.drain, pytest.mark.destructive]

OPTIONS = DrainOptions(ignore_daemonsets=True, delete_emptydir_data=True)


def test_drain_respects_the_disruption_budget(drill: Drill) -> None:
    pods, timeouts = drill.pods, drill.timeouts
    if len(drill.names) != 3:
        pytest.skip("the maintenance drill follows the tutorial's three-server ensemble")
    first = drill.target_pod()
    zk0, zk1, zk2 = [first, *(n for n in drill.names if n != first)]
    schedulable = [n.name for n in drill.nodes() if n.schedulable]
    if len(schedulable) < 4:
        pytest.skip(f"the drill needs 4 schedulable nodes, the cluster has {len(schedulable)}")
    with drill.step(f"write /hello = world through {zk0}"):
        drill.zk.write(zk0, "/hello", "world")
    with drill.step("kubectl cordon every node but four"):
        home = [pods.current()[n].node or "" for n in (zk0, zk1, zk2)]
        if len(set(home)) != 3:
            where = dict(zip((zk0, zk1, zk2), home, strict=True))
            rule = drill.statefulset().anti_affinity()
            raise DrillFailure(f"finding: the servers share nodes ({where}): {rule.detail}")
        kept = drill.faults.cordon_all_but(4, prefer=home)
        free = next(n for n in kept if n not in home)
        drill.note("nodes", True, f"servers on {', '.join(home)}; free node {free}")
    n0, n1, n2 = home
    with drill.step("kubectl get pdb: the budget allows 1 disruption"):
        found = drill.budgets()
        if found:
            drill.wait(budget_allows(pods, drill.objects, found[0].name, 1))
        drill.note("PodDisruptionBudget", bool(found), ", ".join(b.describe() for b in found)
                   or f"none selects the pods {drill.statefulset().template_labels}")
    uid0 = pods.current()[zk0].uid
    with drill.step(f"kubectl drain {n0} --ignore-daemonsets --delete-emptydir-data",
                    disturbs=[zk0]):
        drained = drill.faults.drain(n0, timeout=timeouts.step, options=OPTIONS)
        assert drained.ok and zk0 in drained.evicted, drained.describe()
    with drill.step(f"{zk0} rescheduled on {free}, Running and Ready", disturbs=[zk0]):
        drill.wait(ready_elsewhere(pods, zk0, uid0, {n0}))
        assert pods.current()[zk0].node == free, pods.current()[zk0].node
        drill.wait_serving()
        drill.zk.check_sentinels()
    uid1 = pods.current()[zk1].uid
    with drill.step(f"kubectl drain {n1} --ignore-daemonsets --delete-emptydir-data",
                    disturbs=[zk1]):
        drained = drill.faults.drain(n1, timeout=timeouts.step, options=OPTIONS)
        assert drained.ok and zk1 in drained.evicted, drained.describe()
    with drill.step(f"{zk1} stays Pending: anti-affinity leaves no node for it",
                    disturbs=[zk1]):
        placed = drill.wait(pod_placed(pods, zk1, uid1))
        node = pods.current()[zk1].node if zk1 in pods.current() else None
        if node:
            rule = drill.statefulset().anti_affinity()
            sharing = sorted(p for p, snap in pods.current().items()
                             if p != zk1 and snap.node == node)
            raise DrillFailure(
                f"finding: {zk1} was rescheduled on {node}"
                + (f", next to {', '.join(sharing)}" if sharing else "")
                + f" ({placed.detail}) instead of staying Pending: {rule.detail}")
        seen = drill.wait(pod_unschedulable(pods, zk1))
        drill.note("PodScheduled", True, seen.detail)
        events = drill.events_for(zk1, "FailedScheduling")
        if events:
            drill.note("FailedScheduling", True, events[-1])
        assert "anti-affinity" in seen.detail, f"{zk1} is unschedulable for another reason"
        drill.zk.check_sentinels(allow_unreachable={zk1})
    with drill.step(f"kubectl drain {n2}: the eviction of {zk2} is refused"):
        drained = drill.faults.drain(n2, timeout=2 * OPTIONS.retry_every + 1, options=OPTIONS)
        if zk2 in drained.evicted:
            raise DrillFailure(_second_eviction(zk2, zk1, bool(found)))
        assert zk2 in drained.refused, drained.describe()
        message = drained.refusal_messages[zk2]
        drill.note("refusal", True, message)
        assert PDB_REFUSAL in message, f"refused, but not by the budget: {message}"
    window = timeouts.eviction_refused_window
    with drill.step(f"the eviction of {zk2} stays refused while {zk1} is down ({window:g}s)"):
        try:
            wait_until_stable(eviction_refused(pods, drill.objects, zk2), window)
        except StabilityLost as exc:
            raise DrillFailure(f"{_second_eviction(zk2, zk1, bool(found))}: {exc.detail}"
                               ) from exc
        drill.wait(pod_unschedulable(pods, zk1), timeout=timeouts.zk)
    with drill.step(f"kubectl exec {zk0} zkCli.sh get /hello: still world"):
        drill.zk.expect(zk0, "/hello", "world", why=f" while {zk1} is down")
        drill.zk.expect(zk2, "/hello", "world", why=f" while {zk1} is down")
        shown = drill.zk.zkcli(zk0, "get", "/hello")
        assert "world" in shown.output.splitlines(), shown.describe()
        drill.zk.check_sentinels(allow_unreachable={zk1})
    with drill.step(f"kubectl uncordon {n0}", disturbs=[zk1]):
        assert drill.faults.uncordon(n0), f"{n0} was not cordoned by this drill"
    with drill.step(f"{zk1} scheduled on {n0}, Running and Ready", disturbs=[zk1]):
        drill.wait(pod_running_ready(pods, zk1))
        assert pods.current()[zk1].node == n0, pods.current()[zk1].node
        drill.wait_serving()
    with drill.step(f"kubectl drain {n2} again: now it succeeds", disturbs=[zk2]):
        drained = drill.faults.drain(n2, timeout=timeouts.step, options=OPTIONS)
        assert drained.ok and zk2 in drained.evicted, drained.describe()
        assert not drained.cordoned_by_us, f"{n2} should still have been cordoned"
    with drill.step(f"kubectl uncordon {n1}: {zk2} runs there, Running and Ready",
                    disturbs=[zk2]):
        drill.faults.uncordon(n1)
        drill.wait(pod_running_ready(pods, zk2))
        assert pods.current()[zk2].node == n1, pods.current()[zk2].node
    with drill.step("kubectl uncordon every node this drill cordoned"):
        drill.faults.uncordon_all()
    with drill.step("steady state: 3/3 Ready, one leader, every sentinel on every server"):
        drill.wait_ready()
        drill.zk.check_sentinels()
        drill.zk.expect(zk2, "/hello", "world")


def _second_eviction(evicted: str, down: str, budgeted: bool) -> str:
    why = "" if budgeted else " (no PodDisruptionBudget selects the pods)"
    return (f"the second eviction was allowed: {evicted} was evicted while {down} was down, "
            f"leaving one server of three{why}")
