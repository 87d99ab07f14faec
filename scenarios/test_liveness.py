"""Testing for liveness: a server whose health check fails is restarted by its liveness probe.

Tutorial section: "Testing for liveness". What this drill checks:

- removing the probe script in zk-0 (``kubectl exec zk-0 -- rm .../zookeeper-ready``, the
  path from the image profile) makes the probe fail: the watch shows zk-0 ``0/1 Running 0``,
  then ``0/1 Running 1`` (the liveness probe restarted the container), then ``1/1 Running 1``;
- the restart came when the pod's own liveness probe says it must: not before
  periodSeconds x (failureThreshold - 1) after the removal, and within initialDelaySeconds +
  periodSeconds x failureThreshold + timeoutSeconds (plus a few seconds to kill and start);
- it is the same pod (a container restart, not a new pod), and the restarted container has
  the script again (a fresh container file system);
- the other pods are not disturbed, and every sentinel written before is on every server.
"""

from __future__ import annotations

import time

import pytest

from harness.drill import (
    Drill,
    DrillFailure,
    ProbeTimes,
    WaitTimeout,
    pod_restarted,
    pod_running_ready,
    restart_trace,
)

pytestmark = [pytest.mark.liveness, pytest.mark.destructive]

RESTART_SLACK = 15.0  # seconds for the kubelet to kill the container and start a new one
EARLY_TOLERANCE = 2.0  # probe ticks are not exact


def test_broken_probe_script_restarts_the_container(drill: Drill) -> None:
    pod, script = drill.target_pod(), drill.profile.ready_script
    liveness = drill.probe(pod, "liveness")
    times = liveness or ProbeTimes.of({"exec": {}})
    assert times is not None
    latest = times.latest_action + RESTART_SLACK
    where = (f"the pod's livenessProbe ({times.describe()})" if liveness else
             f"the pod has no livenessProbe (API defaults: {times.describe()})")
    drill.note("probe budget", True, f"restart expected {times.earliest_action:g}s to "
                                     f"{latest:g}s after the removal; {where}")
    since = drill.pods.last_seq
    with drill.step(f"kubectl exec {pod} -- rm {script}", disturbs=[pod]):
        removal = drill.faults.remove_file(pod, script)
    with drill.step(f"kubectl get pod -w: {pod} not ready, then restarted by its liveness "
                    "probe", disturbs=[pod]):
        left = latest - (time.monotonic() - removal.removed_at)
        try:
            drill.wait(pod_restarted(drill.pods, pod, removal.restarts_before, ready=False),
                       timeout=max(left, 1.0))
        except WaitTimeout as exc:
            raise DrillFailure(
                f"{pod}'s container was not restarted within the probe budget of "
                f"{latest:g}s after {script} was removed; {where}; last seen: "
                f"{exc.last_state}") from exc
        trace = restart_trace(drill.pods.events(since), pod, removal.uid,
                              removal.restarts_before)
        assert trace.restarted is not None and trace.replaced is None, trace.describe()
        after = trace.restarted.mono - removal.removed_at
        drill.note("restart", True, f"{after:.1f}s after the removal: {trace.describe()}")
        drill.measure("restart_after_s", after)
        assert after >= times.earliest_action - EARLY_TOLERANCE, (
            f"{pod} restarted {after:.1f}s after the removal, sooner than its liveness probe "
            f"can act ({times.earliest_action:g}s): something else restarted it")
    with drill.step(f"{pod} Ready again (1/1 Running {removal.restarts_before + 1})",
                    disturbs=[pod]):
        drill.wait(pod_running_ready(drill.pods, pod))
        trace = restart_trace(drill.pods.events(since), pod, removal.uid,
                              removal.restarts_before)
        assert trace.restarted is not None
        assert trace.unready is not None and trace.unready.seq <= trace.restarted.seq, (
            f"{pod} was never seen not ready before its restart: {trace.describe()}")
        assert trace.restarted.pod.restarts == removal.restarts_before + 1, trace.describe()
    with drill.step(f"kubectl exec {pod} -- test -e {script}: the new container has it again"):
        back = drill.exec(pod, ["test", "-e", script])
        assert back.exit_code == 0, f"{script} is still missing after the restart"
        drill.note("undo", True, removal.undo())
    with drill.step("one leader; every sentinel on every server"):
        drill.zk.check_sentinels()
