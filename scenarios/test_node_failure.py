"""Node failure: a node stops; Kubernetes marks it NotReady, keeps its pod's identity, and
only a forced delete lets the StatefulSet start the server elsewhere.

From "Kubernetes in Action" (StatefulSets, "Dealing with node failures") and the tutorial's
"Tolerating node failure". What this drill checks:

- the target server's node is stopped (``--node-stop-command``; on localkube ``localkube node
  stop``): its processes die; the two other servers keep a quorum and keep acknowledging
  writes within the step's budget;
- after the node-monitor grace period the node is ``NotReady`` (Ready ``Unknown``) and the
  pod's Ready condition is no longer True; after its toleration of the ``unreachable`` taint
  the pod is marked for deletion but stays (``Terminating``: no kubelet confirms), and the
  StatefulSet creates no second pod with that identity;
- ``kubectl delete pod --force --grace-period=0`` lets the StatefulSet create it again on
  another node; it becomes Ready and rejoins as a follower with every acknowledged write;
- the node starts again and is Ready; its old container never serves (one leader, every
  server agreeing on the data, no acknowledged write lost).

Without a way to stop a node (a real cluster without ``--node-stop-command`` and
``--node-start-command``) the drill is skipped, saying so.
"""

from __future__ import annotations

import time

import pytest

from harness.drill import (
    Drill,
    node_ready,
    pod_exists,
    pod_running_ready,
    pod_terminating,
    pod_unready,
    quorum_without,
    ready_elsewhere,
)

pytestmark = [pytest.mark.node_failure, pytest.mark.destructive]


def test_a_stopped_node_keeps_its_pod_until_it_is_force_deleted(drill: Drill) -> None:
    if drill.faults.node_commands is None:
        pytest.skip("no way to stop a node on this cluster: pass --node-stop-command and "
                    "--node-start-command ({node} is replaced by the node's name)")
    pod = drill.target_pod()
    node = drill.node_of(pod)
    old = drill.pods.current()[pod]
    drill.note("target", True, f"{pod} ({drill.role_of(pod)}) on node/{node}")
    with drill.step(f"stop node/{node}: its kubelet goes silent, its processes die",
                    disturbs=[pod]):
        stop = drill.faults.stop_node(node)
    with drill.step(f"the other servers keep the quorum while {pod} is gone", disturbs=[pod]):
        drill.wait(quorum_without(drill.pods, drill.server_modes, pod, len(drill.names)),
                   recheck=0.5)
    with drill.step(f"node/{node} NotReady after the node-monitor grace period",
                    disturbs=[pod]):
        seen = drill.wait(node_ready(drill.pods, drill.objects, node, ready=False), recheck=1.0)
        drill.note("NotReady", True, f"{time.monotonic() - stop.stopped_at:.1f}s after the "
                                     f"stop: {seen.detail}")
        drill.wait(pod_unready(drill.pods, pod, old.uid))
    with drill.step(f"{pod} marked for deletion after its toleration, but it stays",
                    disturbs=[pod]):
        drill.wait(pod_terminating(drill.pods, pod, old.uid))
        current = drill.pods.current()
        assert current[pod].uid == old.uid, f"{pod} was replaced while its node was down"
        assert len(current) == len(drill.names), (
            f"the StatefulSet started another pod: {sorted(current)}")
        drill.note("identity", True, f"{current[pod].row()}: still the old pod, no second one")
    with drill.step(f"kubectl delete pod {pod} --force --grace-period=0", disturbs=[pod]):
        drill.force_delete(pod)
        drill.wait(pod_exists(drill.pods, pod, not_uid=old.uid))
    with drill.step(f"{pod} created again on another node, Running and Ready, a follower",
                    disturbs=[pod]):
        drill.wait(ready_elsewhere(drill.pods, pod, old.uid, {node}))
        drill.wait_serving()
    with drill.step(f"start node/{node}: Ready again; its old container never serves"):
        drill.note("undo", True, stop.undo())
        drill.wait(node_ready(drill.pods, drill.objects, node), recheck=1.0)
        drill.wait(pod_running_ready(drill.pods, pod))
        drill.zk.check_sentinels()
