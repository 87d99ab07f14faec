"""Surviving maintenance: drain nodes one after another against the PodDisruptionBudget.

Tutorial section: "Surviving maintenance". The expectations come from the live target: the
number of servers N (3 or 5), the budget (``maxUnavailable``/``minAvailable`` → the
disruptions it allows once all are healthy, which must leave a quorum and be at least one)
and the schedulable nodes. The three servers drained are the ``--target`` first, then the
next two; with five servers the other two are bystanders that must not change.

With a spare node (more schedulable nodes than servers; any beyond N+1 are cordoned first),
the tutorial's sequence:

- draining zk-0's node evicts zk-0, which comes back on the free node, Running and Ready;
- draining zk-1's node evicts zk-1, which stays Pending: the anti-affinity rule leaves no
  node for it (``PodScheduled=False``, Unschedulable, "anti-affinity" in the reason);
- draining zk-2's node is refused with the PDB's message, and the eviction stays refused
  for a bounded window while zk-1 is down; the others keep serving (``/hello`` still
  reads ``world``, every sentinel is there);
- uncordoning zk-0's first node lets zk-1 be scheduled there and become Ready;
- draining zk-2's node now succeeds, and after uncordoning zk-1's first node zk-2 runs there.

With exactly N schedulable nodes (a three-node cluster), what such a cluster gives: draining
zk-0's node leaves zk-0 Pending until its node returns; the next drain is refused while it is
down; after ``kubectl uncordon`` zk-0 runs on its node again; then every other server's node
is drained and uncordoned in turn (each server Pending, then back on its node, Ready).

Either way: uncordon everything, N/N Ready, one leader, all data on every server;
throughout, the workload's writes stay within one election's budget and none is lost.
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
    quorum_size,
    ready_elsewhere,
    wait_until_stable,
)

pytestmark = [pytest.mark.drain, pytest.mark.destructive]

OPTIONS = DrainOptions(ignore_daemonsets=True, delete_emptydir_data=True)


def test_drain_respects_the_disruption_budget(drill: Drill) -> None:
    pods = drill.pods
    servers = len(drill.names)
    if servers < 3:
        pytest.skip(f"the maintenance drill needs three servers or more, the ensemble has "
                    f"{servers}")
    first = drill.target_pod()
    order = [first, *(n for n in drill.names if n != first)]
    home = {p: pods.current()[p].node or "" for p in order}
    schedulable = [n.name for n in drill.nodes() if n.schedulable]
    with drill.step(f"write /hello = world through {first}"):
        drill.zk.write(first, "/hello", "world")
    with drill.step(f"the {servers} servers run on {servers} nodes"):
        if len(set(home.values())) != servers:
            rule = drill.statefulset().anti_affinity()
            raise DrillFailure(f"finding: the servers share nodes ({home}): {rule.detail}")
        drill.note("nodes", True, f"servers on {', '.join(home.values())}; "
                                  f"{len(schedulable)} schedulable nodes")
    budgeted = _budget_allows_one(drill, servers)
    if len(schedulable) > servers:
        _with_a_spare_node(drill, order, home, budgeted)
    else:
        _without_a_spare_node(drill, order, home, budgeted)
    with drill.step("kubectl uncordon every node this drill cordoned"):
        drill.faults.uncordon_all()
    with drill.step(f"steady state: {servers}/{servers} Ready, one leader, every sentinel on "
                    "every server"):
        drill.wait_ready()
        drill.zk.check_sentinels()
        drill.zk.expect(order[2], "/hello", "world")


def _budget_allows_one(drill: Drill, servers: int) -> bool:
    """``kubectl get pdb``: the budget allows one disruption (False: no budget at all).
    A budget that allows none blocks every drain; one that allows the quorum to go is a
    finding; one that allows two or more (of five) is checked by a drill yet to come."""
    with drill.step("kubectl get pdb: the budget allows 1 disruption"):
        found = drill.budgets()
        drill.note("PodDisruptionBudget", bool(found), ", ".join(b.describe() for b in found)
                   or f"none selects the pods {drill.statefulset().template_labels}")
        if not found:
            return False
        budget = found[0]
        allowed = budget.allowed_when_healthy(servers)
        quorum = quorum_size(servers)
        if allowed == 0:
            raise DrillFailure(f"finding: {budget.describe()} allows no disruption of "
                               f"{servers} servers: kubectl drain can never evict one, so "
                               "node maintenance blocks")
        if servers - allowed < quorum:
            raise DrillFailure(f"finding: {budget.describe()} allows {allowed} disruptions of "
                               f"{servers} servers, leaving {servers - allowed}: less than "
                               f"the quorum of {quorum}")
        if allowed > 1:
            pytest.skip(f"{budget.describe()} allows {allowed} disruptions of {servers} "
                        "servers (the quorum survives them); this drill checks the refusal "
                        "after one server is down, so it does not apply to this budget")
        drill.wait(budget_allows(drill.pods, drill.objects, budget.name, 1))
        return True


def _with_a_spare_node(drill: Drill, order: list[str], home: dict[str, str],
                       budgeted: bool) -> None:
    """The tutorial's sequence: zk-0 moves to the spare node, zk-1 waits for one."""
    pods, timeouts = drill.pods, drill.timeouts
    zk0, zk1, zk2 = order[:3]
    n0, n1, n2 = home[zk0], home[zk1], home[zk2]
    with drill.step(f"kubectl cordon every node but {len(order) + 1}"):
        kept = drill.faults.cordon_all_but(len(order) + 1, prefer=list(home.values()))
        free = next(n for n in kept if n not in home.values())
        drill.note("spare node", True, free)
    uid0 = pods.current()[zk0].uid
    _drain(drill, n0, zk0)
    with drill.step(f"{zk0} rescheduled on {free}, Running and Ready", disturbs=[zk0]):
        drill.wait(ready_elsewhere(pods, zk0, uid0, {n0}))
        assert pods.current()[zk0].node == free, pods.current()[zk0].node
        drill.wait_serving()
        drill.zk.check_sentinels()
    uid1 = pods.current()[zk1].uid
    _drain(drill, n1, zk1)
    _stays_pending(drill, zk1, uid1)
    _refused_while_down(drill, n2, zk2, zk1, budgeted, reading=[zk0, zk2])
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


def _without_a_spare_node(drill: Drill, order: list[str], home: dict[str, str],
                          budgeted: bool) -> None:
    """What a cluster with one node per server gives: each drained server waits Pending for
    its own node, and no second server may go meanwhile."""
    zk0, zk1 = order[:2]
    drill.note("spare node", True, "none: each drained server waits for its node to return")
    uid0 = drill.pods.current()[zk0].uid
    _drain(drill, home[zk0], zk0)
    _stays_pending(drill, zk0, uid0)
    _refused_while_down(drill, home[zk1], zk1, zk0, budgeted, reading=order[1:3])
    _back_home(drill, zk0, home[zk0])
    for pod in order[1:]:
        uid = drill.pods.current()[pod].uid
        _drain(drill, home[pod], pod)
        _stays_pending(drill, pod, uid)
        _back_home(drill, pod, home[pod])


def _drain(drill: Drill, node: str, pod: str) -> None:
    with drill.step(f"kubectl drain {node} --ignore-daemonsets --delete-emptydir-data",
                    disturbs=[pod]):
        drained = drill.faults.drain(node, timeout=drill.timeouts.step, options=OPTIONS)
        assert drained.ok and pod in drained.evicted, drained.describe()


def _stays_pending(drill: Drill, pod: str, uid: str) -> None:
    """The evicted server's new pod finds no node: the anti-affinity rule leaves none."""
    pods = drill.pods
    with drill.step(f"{pod} stays Pending: anti-affinity leaves no node for it",
                    disturbs=[pod]):
        placed = drill.wait(pod_placed(pods, pod, uid))
        node = pods.current()[pod].node if pod in pods.current() else None
        if node:
            rule = drill.statefulset().anti_affinity()
            sharing = sorted(p for p, snap in pods.current().items()
                             if p != pod and snap.node == node)
            raise DrillFailure(
                f"finding: {pod} was rescheduled on {node}"
                + (f", next to {', '.join(sharing)}" if sharing else "")
                + f" ({placed.detail}) instead of staying Pending: {rule.detail}")
        seen = drill.wait(pod_unschedulable(pods, pod))
        drill.note("PodScheduled", True, seen.detail)
        events = drill.events_for(pod, "FailedScheduling")
        if events:
            drill.note("FailedScheduling", True, events[-1])
        assert "anti-affinity" in seen.detail, f"{pod} is unschedulable for another reason"
        drill.zk.check_sentinels(allow_unreachable={pod})


def _refused_while_down(drill: Drill, node: str, pod: str, down: str, budgeted: bool,
                        *, reading: list[str]) -> None:
    """Draining ``node`` is refused by the budget, and stays refused, while ``down`` is
    Pending; the servers in ``reading`` still serve ``/hello``."""
    pods, servers = drill.pods, len(drill.names)
    with drill.step(f"kubectl drain {node}: the eviction of {pod} is refused"):
        drained = drill.faults.drain(node, timeout=2 * OPTIONS.retry_every + 1, options=OPTIONS)
        if pod in drained.evicted:
            raise DrillFailure(_second_eviction(pod, down, budgeted, servers))
        assert pod in drained.refused, drained.describe()
        message = drained.refusal_messages[pod]
        drill.note("refusal", True, message)
        assert PDB_REFUSAL in message, f"refused, but not by the budget: {message}"
    window = drill.timeouts.eviction_refused_window
    with drill.step(f"the eviction of {pod} stays refused while {down} is down ({window:g}s)"):
        try:
            wait_until_stable(eviction_refused(pods, drill.objects, pod), window)
        except StabilityLost as exc:
            raise DrillFailure(f"{_second_eviction(pod, down, budgeted, servers)}: "
                               f"{exc.detail}") from exc
        drill.wait(pod_unschedulable(pods, down), timeout=drill.timeouts.zk)
    with drill.step(f"kubectl exec {reading[0]} zkCli.sh get /hello: still world"):
        for server in reading:
            drill.zk.expect(server, "/hello", "world", why=f" while {down} is down")
        shown = drill.zk.zkcli(reading[0], "get", "/hello")
        assert "world" in shown.output.splitlines(), shown.describe()
        drill.zk.check_sentinels(allow_unreachable={down})


def _back_home(drill: Drill, pod: str, node: str) -> None:
    with drill.step(f"kubectl uncordon {node}", disturbs=[pod]):
        assert drill.faults.uncordon(node), f"{node} was not cordoned by this drill"
    with drill.step(f"{pod} scheduled on {node} again, Running and Ready", disturbs=[pod]):
        drill.wait(pod_running_ready(drill.pods, pod))
        assert drill.pods.current()[pod].node == node, drill.pods.current()[pod].node
        drill.wait_serving()


def _second_eviction(evicted: str, down: str, budgeted: bool, servers: int) -> str:
    why = "" if budgeted else " (no PodDisruptionBudget selects the pods)"
    left = servers - 2
    quorum = quorum_size(servers)
    loss = f": less than the quorum of {quorum}" if left < quorum else ""
    return (f"the second eviction was allowed: {evicted} was evicted while {down} was down, "
            f"leaving {left} servers of {servers}{loss}{why}")
