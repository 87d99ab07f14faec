"""Node-pool rotation: drain every node that hosts a server, one after another, as a
Kubernetes upgrade does (GKE/EKS node-pool upgrades, ``kubeadm upgrade`` with drain).

Beyond the tutorial ("Surviving maintenance", for every node). What this drill checks, on
one more schedulable node than there are servers (any others are cordoned first):

- for each server's node, the leader's last (or ``--target``'s first): ``kubectl cordon``,
  ``kubectl drain`` (evictions through the PodDisruptionBudget, refusals retried as kubectl
  does) moves the server to the free node, Running and Ready, and *back in the ensemble*:
  the leader's ``mntr`` counts every follower synced (Ready only means ``ruok`` answers);
  then ``kubectl uncordon`` and the next node;
- never more servers down than the budget allows, and each node's turn within the write
  budget of the workload (per step), which runs throughout; nothing lost at the end.
"""

from __future__ import annotations

import pytest

from harness.drill import DrainOptions, Drill, DrillFailure, followers_synced, ready_elsewhere

pytestmark = [pytest.mark.rotation, pytest.mark.destructive]

OPTIONS = DrainOptions(ignore_daemonsets=True, delete_emptydir_data=True)


def test_every_node_drained_in_turn(drill: Drill) -> None:
    pods, names = drill.pods, drill.names
    schedulable = [n.name for n in drill.nodes() if n.schedulable]
    if len(schedulable) < len(names) + 1:
        pytest.skip(f"a rotation needs {len(names) + 1} schedulable nodes (one free for the "
                    f"drained server), the cluster has {len(schedulable)}")
    order = _order(drill)
    with drill.step(f"kubectl cordon every node but {len(names) + 1}"):
        home = {pod: drill.node_of(pod) for pod in names}
        if len(set(home.values())) != len(names):
            raise DrillFailure(f"the servers share nodes ({home}); the spread drill explains why")
        kept = drill.faults.cordon_all_but(len(names) + 1, prefer=list(home.values()))
        drill.note("order", True, " -> ".join(f"{p} on {home[p]}" for p in order)
                   + f"; free node {next(n for n in kept if n not in home.values())}")
    for pod in order:
        node, uid = drill.node_of(pod), pods.current()[pod].uid
        with drill.step(f"kubectl drain {node} ({pod})", disturbs=[pod]):
            drained = drill.faults.drain(node, timeout=drill.timeouts.step, options=OPTIONS)
            assert drained.ok and pod in drained.evicted, drained.describe()
        with drill.step(f"{pod} Running and Ready elsewhere, and back in the ensemble",
                        disturbs=[pod]):
            drill.wait(ready_elsewhere(pods, pod, uid, {node}))
            synced = drill.wait(followers_synced(pods, drill.leader_metrics, len(names)),
                                recheck=0.5)
            drill.note("synced", True, synced.detail)
        with drill.step(f"kubectl uncordon {node}"):
            assert drill.faults.uncordon(node), f"{node} was not cordoned by this drill"
    with drill.step("kubectl uncordon every node this drill cordoned"):
        drill.faults.uncordon_all()
    with drill.step("every sentinel on every server"):
        drill.zk.check_sentinels()


def _order(drill: Drill) -> list[str]:
    """``--target``'s server first, otherwise the leader's last (one election, at the end)."""
    names = list(drill.names)
    if drill.settings.target:
        first = drill.target_pod()
        return [first, *(n for n in names if n != first)]
    leader = drill.zk.leader()
    return [*(n for n in names if n != leader), leader]
