"""Losing the leader: kill the leader's JVM; a new leader is elected and writes resume.

Beyond the tutorial ("Handling process failure" aimed at the one server whose loss costs an
election). What this drill checks:

- ``srvr`` on every server names one leader; ``kubectl exec <leader> -- pkill java`` ends
  its container;
- another server becomes leader while a quorum keeps serving: the time from the kill to the
  new leader (``srvr``, re-asked every 0.1 s) and to the first write the workload gets
  acknowledged afterwards are measured and reported, with ZooKeeper's own election metrics
  from ``mntr`` where the image allows them;
- the writes resume within one election's budget (``--budget-leader-loss``);
- the old leader's container restarts in place and the server rejoins as a follower;
- no acknowledged write is lost, and the register's history stays linearizable.
"""

from __future__ import annotations

import time

import pytest

from harness.drill import Drill, DrillFailure, new_leader, pod_restarted

pytestmark = [pytest.mark.leader, pytest.mark.destructive]


def test_a_new_leader_after_the_leader_dies(drill: Drill) -> None:
    leader, process = drill.zk.leader(), drill.profile.process_name
    before = drill.pods.current()[leader]
    with drill.step(f"kubectl exec {leader} -- pkill {process} (the leader)", disturbs=[leader]):
        killed_at = time.monotonic()
        killed = drill.exec(leader, ["pkill", process])
        assert killed.exit_code == 0, f"pkill found nothing to kill: {killed.describe()}"
    with drill.step("a new leader among the other servers", disturbs=[leader]):
        seen = drill.wait(new_leader(drill.pods, drill.server_modes, leader,
                                     len(drill.names)), recheck=0.1)
        elected = time.monotonic() - killed_at
        drill.note("time to a new leader", True, f"{elected:.2f}s after the kill: {seen.detail}")
    with drill.step(f"{leader} restarts and rejoins as a follower", disturbs=[leader]):
        drill.wait(pod_restarted(drill.pods, leader, before.restarts))
        drill.wait_serving()
        role = drill.role_of(leader)
        assert role == "follower", f"{leader} came back as {role}, not as a follower"
    resumed = drill.workload.first_ack_after(killed_at + elected)
    if resumed is None:
        raise DrillFailure(f"no write was acknowledged after the new leader was elected "
                           f"({elected:.2f}s after the kill)")
    drill.note("time to the first acknowledged write", True,
               f"{resumed - killed_at:.2f}s after the kill")
    drill.measure("election_s", elected)
    drill.measure("first_write_s", resumed - killed_at)
    with drill.step("ZooKeeper's own view: mntr on the new leader"):
        new = drill.zk.leader()
        metrics = drill.zk.mntr(new)
        election = {k: v for k, v in metrics.items() if "election" in k or "uptime" in k}
        drill.note("election metrics (mntr)", True, ", ".join(
            f"{k}={v}" for k, v in sorted(election.items())) or
            "neither the mntr word nor the AdminServer answers, or mntr reports no "
            "election metric on this image")
