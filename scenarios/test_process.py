"""Handling process failure: kill the ZooKeeper process, Kubernetes restarts the container.

Tutorial section: "Handling process failure". What this drill checks:

- ``kubectl exec zk-0 -- pkill java`` ends zk-0's container: the watch shows zk-0 not ready
  (``0/1 Error 0`` in the tutorial), then ``Running`` with RESTARTS one higher, then
  ``1/1 Running`` -- the same pod (same uid), restarted in place (restartPolicy Always);
- the previous container ended on the signal (reason Error, exit 143 or 137);
- the other pods are not disturbed, while zk-0 was down the two other servers kept
  accepting writes (a client writing throughout), and afterwards the ensemble has one
  leader again;
- every sentinel written before is on every server, and no acknowledged write was lost.
"""

from __future__ import annotations

import pytest

from harness.drill import Drill, pod_restarted, restart_trace

pytestmark = [pytest.mark.process, pytest.mark.destructive]


def test_pkill_java_restarts_the_container(drill: Drill) -> None:
    pod, process = drill.target_pod(), drill.profile.process_name
    before = drill.pods.current()[pod]
    since = drill.pods.last_seq
    drill.note("role", True, f"{pod} is the {drill.role_of(pod)}")
    with drill.step(f"kubectl exec {pod} -- pkill {process}", disturbs=[pod]):
        killed = drill.exec(pod, ["pkill", process])
        assert killed.exit_code == 0, f"pkill found nothing to kill: {killed.describe()}"
    with drill.step(f"kubectl get pod -w: {pod} not ready, then RESTARTS "
                    f"{before.restarts + 1}, then 1/1 Running", disturbs=[pod]):
        drill.wait(pod_restarted(drill.pods, pod, before.restarts))
        trace = restart_trace(drill.pods.events(since), pod, before.uid, before.restarts)
        drill.note("timeline", True, trace.describe())
        assert trace.replaced is None, f"{pod} was replaced, not restarted: {trace.describe()}"
        assert trace.unready is not None and trace.restarted is not None, trace.describe()
        assert trace.unready.seq <= trace.restarted.seq, (
            f"{pod} restarted without being seen not ready first: {trace.describe()}")
        assert trace.ready_again is not None, trace.describe()
        assert trace.restarted.pod.restarts == before.restarts + 1, (
            f"expected exactly one restart: {trace.describe()}")
        container = drill.pods.current()[pod].containers[0]
        drill.note("previous container", True,
                   f"exit {container.last_exit_code}, reason {container.last_reason}")
        assert trace.error is not None or container.last_reason == "Error", (
            f"the killed container did not end in Error: exit {container.last_exit_code}, "
            f"reason {container.last_reason!r}")
    with drill.step("the ensemble kept serving while it was down, and has one leader"):
        drill.wait_serving()
        drill.zk.leader()
    down_from, down_to = trace.unready.mono, trace.ready_again.mono
    accepted = drill.workload.acked_between(down_from, down_to)
    assert accepted > 0, (
        f"no write was accepted during the {down_to - down_from:.1f}s {pod} was not ready: "
        "the other servers did not keep a quorum")
    with drill.step("every sentinel on every server"):
        drill.zk.check_sentinels()
