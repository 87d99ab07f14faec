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
- uncordon everything: 3/3 Ready, one leader, all data on every server.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from harness.disruption import (
    budget_allows,
    budgets,
    eviction_refused,
    pod_unschedulable,
    ready_elsewhere,
)
from harness.ensemble import Ensemble
from harness.errors import DrillFailure, StabilityLost
from harness.faults import Faults
from harness.kube.client import Cluster
from harness.kube.drain import PDB_REFUSAL, DrainOptions, is_cordoned
from harness.predicates import pod_running_ready
from harness.servers import ZooKeeper
from harness.steps import DrillRecorder
from harness.waits import wait_until_stable

pytestmark = [pytest.mark.drain, pytest.mark.destructive]

OPTIONS = DrainOptions(ignore_daemonsets=True, delete_emptydir_data=True)


def test_drain_respects_the_disruption_budget(
    ensemble: Ensemble, zk: ZooKeeper, faults: Faults, cluster: Cluster, step: DrillRecorder
) -> None:
    pods, timeouts = ensemble.pods, ensemble.settings.timeouts
    assert pods is not None
    if len(ensemble.names) != 3:
        pytest.skip("the maintenance drill follows the tutorial's three-server ensemble")
    zk0, zk1, zk2 = ensemble.names
    schedulable = [n["metadata"]["name"] for n in cluster.nodes() if not is_cordoned(n)]
    if len(schedulable) < 4:
        pytest.skip(f"the drill needs 4 schedulable nodes, the cluster has {len(schedulable)}")
    with step(f"write /hello = world through {zk0}"):
        zk.write(zk0, "/hello", "world")
    with ExitStack() as stack:
        with step("kubectl cordon every node but four"):
            home = [pods.current()[n].node or "" for n in ensemble.names]
            if len(set(home)) != 3:
                where = dict(zip(ensemble.names, home, strict=True))
                raise DrillFailure(f"the servers share nodes ({where}); the spread drill "
                                   "explains why")
            kept = stack.enter_context(faults.extra_nodes_cordoned(4, prefer=home))
            free = next(n for n in kept if n not in home)
            step.note("nodes", True, f"servers on {', '.join(home)}; free node {free}")
        n0, n1, n2 = home
        with step("kubectl get pdb: the budget allows 1 disruption"):
            labels = _template_labels(cluster, ensemble)
            found = budgets(cluster, labels)
            if found:
                name = found[0]["metadata"]["name"]
                ensemble.wait(budget_allows(cluster, name, 1, pods), timeout=timeouts.step)
            step.note("PodDisruptionBudget", bool(found), ", ".join(
                p["metadata"]["name"] for p in found) or f"none selects the pods {labels}")
        uid0 = pods.current()[zk0].uid
        with step(f"kubectl drain {n0} --ignore-daemonsets --delete-emptydir-data"):
            drained = faults.drain(n0, timeout=timeouts.step, options=OPTIONS)
            assert drained.ok and zk0 in drained.evicted, drained.describe()
        with step(f"{zk0} rescheduled on {free}, Running and Ready"):
            ensemble.wait(ready_elsewhere(pods, zk0, uid0, {n0}), timeout=timeouts.pod_ready)
            assert pods.current()[zk0].node == free, pods.current()[zk0].node
            ensemble.wait_serving()
            zk.check_sentinels()
        with step(f"kubectl drain {n1} --ignore-daemonsets --delete-emptydir-data"):
            drained = faults.drain(n1, timeout=timeouts.step, options=OPTIONS)
            assert drained.ok and zk1 in drained.evicted, drained.describe()
        with step(f"{zk1} stays Pending: anti-affinity leaves no node for it"):
            seen = ensemble.wait(pod_unschedulable(pods, zk1), timeout=timeouts.step)
            step.note("PodScheduled", True, seen.detail)
            events = [e for e in cluster.events_for(zk1) if e.get("reason") == "FailedScheduling"]
            if events:
                step.note("FailedScheduling", True, str(events[-1].get("message")))
            assert "anti-affinity" in seen.detail, f"{zk1} is unschedulable for another reason"
            zk.check_sentinels(allow_unreachable={zk1})
        with step(f"kubectl drain {n2}: the eviction of {zk2} is refused"):
            drained = faults.drain(n2, timeout=2 * OPTIONS.retry_every + 1, options=OPTIONS)
            if zk2 in drained.evicted:
                raise DrillFailure(_second_eviction(zk2, zk1, found))
            assert zk2 in drained.refused, drained.describe()
            message = drained.refusal_messages[zk2]
            step.note("refusal", True, message)
            assert PDB_REFUSAL in message, f"refused, but not by the budget: {message}"
        window = timeouts.eviction_refused_window
        with step(f"the eviction of {zk2} stays refused while {zk1} is down ({window:g}s)"):
            try:
                wait_until_stable(eviction_refused(cluster, zk2, pods), window)
            except StabilityLost as exc:
                raise DrillFailure(f"{_second_eviction(zk2, zk1, found)}: {exc.detail}") from exc
            ensemble.wait(pod_unschedulable(pods, zk1), timeout=timeouts.zk)
        with step(f"kubectl exec {zk0} zkCli.sh get /hello: still world"):
            zk.expect(zk0, "/hello", "world", why=f" while {zk1} is down")
            zk.expect(zk2, "/hello", "world", why=f" while {zk1} is down")
            shown = zk.zkcli(zk0, "get", "/hello")
            assert "world" in shown.output.splitlines(), shown.describe()
            zk.check_sentinels(allow_unreachable={zk1})
        with step(f"kubectl uncordon {n0}"):
            assert faults.uncordon(n0), f"{n0} was not cordoned by this drill"
        with step(f"{zk1} scheduled on {n0}, Running and Ready"):
            ensemble.wait(pod_running_ready(pods, zk1), timeout=timeouts.pod_ready)
            assert pods.current()[zk1].node == n0, pods.current()[zk1].node
            ensemble.wait_serving()
        with step(f"kubectl drain {n2} again: now it succeeds"):
            drained = faults.drain(n2, timeout=timeouts.step, options=OPTIONS)
            assert drained.ok and zk2 in drained.evicted, drained.describe()
            assert not drained.cordoned_by_us, f"{n2} should still have been cordoned"
        with step(f"kubectl uncordon {n1}: {zk2} runs there, Running and Ready"):
            faults.uncordon(n1)
            ensemble.wait(pod_running_ready(pods, zk2), timeout=timeouts.pod_ready)
            assert pods.current()[zk2].node == n1, pods.current()[zk2].node
        with step("kubectl uncordon every node this drill cordoned"):
            faults.uncordon(n2)
            stack.close()
    with step("steady state: 3/3 Ready, one leader, every sentinel on every server"):
        ensemble.wait_ready()
        ensemble.wait_serving()
        zk.check_sentinels()
        zk.expect(zk2, "/hello", "world")


def _second_eviction(evicted: str, down: str, found: list) -> str:
    why = "" if found else " (no PodDisruptionBudget selects the pods)"
    return (f"the second eviction was allowed: {evicted} was evicted while {down} was down, "
            f"leaving one server of three{why}")


def _template_labels(cluster: Cluster, ensemble: Ensemble) -> dict[str, str]:
    sts = cluster.statefulset(ensemble.target.statefulset) or {}
    return dict(((sts.get("spec") or {}).get("template") or {}).get("metadata", {})
                .get("labels") or {})
