"""Testing for liveness: a server whose health check fails is restarted by its liveness probe.

Tutorial section: "Testing for liveness". What this drill checks:

- removing the probe script in zk-0 (``kubectl exec zk-0 -- rm .../zookeeper-ready``, the
  path from the image profile) makes the probe fail: the watch shows zk-0 ``0/1 Running 0``,
  then ``0/1 Running 1`` (the liveness probe restarted the container), then ``1/1 Running 1``;
  where the script cannot be removed (a read-only root file system as in the Bitnami chart,
  a probe that runs no script), the server is made to hang instead: ``kill -STOP`` of its
  JVM, as a long GC pause or a deadlock would (undone by ``kill -CONT`` if nothing restarts
  it), and its liveness probe must notice that;
- the restart came when the pod's own liveness probe says it must: not before
  periodSeconds x (failureThreshold - 1) after the fault, and within initialDelaySeconds +
  periodSeconds x failureThreshold + timeoutSeconds (plus a few seconds to kill and start;
  plus the grace period for a hung server, which ignores SIGTERM until it is killed);
- it is the same pod (a container restart, not a new pod), and the restarted container has
  the script again (a fresh container file system) or a running server;
- the other pods are not disturbed, and every sentinel written before is on every server.

Findings (the drill fails naming the configuration): no liveness probe at all (nothing
restarts a hung server), and a ``tcpSocket`` liveness probe, which a hung server passes
(the kernel still accepts its connections).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from harness.drill import (
    Drill,
    DrillFailure,
    WaitTimeout,
    pod_restarted,
    pod_running_ready,
    restart_trace,
)

pytestmark = [pytest.mark.liveness, pytest.mark.destructive]

RESTART_SLACK = 15.0  # seconds for the kubelet to kill the container and start a new one
EARLY_TOLERANCE = 2.0  # probe ticks are not exact


def test_broken_probe_script_restarts_the_container(drill: Drill) -> None:
    pod = drill.target_pod()
    liveness = drill.probe(pod, "liveness")
    handler = drill.probe_handler(pod, "liveness")
    if liveness is None:
        raise DrillFailure(
            f"finding: {pod} has no livenessProbe (container {drill.target.container} of "
            f"statefulset {drill.target.statefulset}): a server that hangs (a long GC pause, "
            "a deadlock) is never restarted; add an exec livenessProbe that asks ruok")
    script, why = drill.removable_probe_script(pod, "liveness")
    latest = liveness.latest_action + RESTART_SLACK
    if script is None:  # hang the server: it ignores SIGTERM, so the kill waits the grace
        latest += drill.grace_period(pod)
    where = f"the pod's livenessProbe ({handler}; {liveness.describe()})"
    drill.note("fault", True, f"remove {script}: {why}" if script else
               f"hang the server (kill -STOP): {why}")
    drill.note("probe budget", True, f"restart expected {liveness.earliest_action:g}s to "
                                     f"{latest:g}s after the fault; {where}")
    since = drill.pods.last_seq
    if script is not None:
        fault_title = f"kubectl exec {pod} -- rm {script}"
        with drill.step(fault_title, disturbs=[pod]):
            removal = drill.faults.remove_file(pod, script)
            uid, restarts_before, started = removal.uid, removal.restarts_before, removal.removed_at
            undo = removal.undo
    else:
        fault_title = f"kubectl exec {pod} -- kill -STOP <pid of {drill.profile.process_name}>"
        with drill.step(fault_title + ": the server hangs", disturbs=[pod]):
            hang = drill.faults.hang(pod, drill.profile.process_name)
            drill.note("hung", True, f"{drill.profile.process_name} pid {hang.pid} stopped (T)")
            uid, restarts_before, started = hang.uid, hang.restarts_before, hang.stopped_at
            undo = hang.undo
    with drill.step(f"kubectl get pod -w: {pod} not ready, then restarted by its liveness "
                    "probe", disturbs=[pod]):
        left = latest - (time.monotonic() - started)
        try:
            drill.wait(pod_restarted(drill.pods, pod, restarts_before, ready=False),
                       timeout=max(left, 1.0))
        except WaitTimeout as exc:
            if handler and handler.startswith("tcpSocket"):
                raise DrillFailure(
                    f"finding: {pod}'s livenessProbe is {handler}: a hung server still "
                    "accepts TCP connections (the kernel completes them), so the probe "
                    f"passed and nothing restarted it within {latest:g}s; use an exec "
                    f"probe that asks ruok; last seen: {exc.last_state}") from exc
            raise DrillFailure(
                f"{pod}'s container was not restarted within the probe budget of "
                f"{latest:g}s after `{fault_title}`; {where}; last seen: "
                f"{exc.last_state}") from exc
        trace = restart_trace(drill.pods.events(since), pod, uid, restarts_before)
        assert trace.restarted is not None and trace.replaced is None, trace.describe()
        after = trace.restarted.mono - started
        drill.note("restart", True, f"{after:.1f}s after the fault: {trace.describe()}")
        drill.measure("restart_after_s", after)
        if after < liveness.earliest_action - EARLY_TOLERANCE:
            # Sooner than failureThreshold failures after the fault: fine only if the kubelet
            # says its liveness probe did it (a failure just before the fault counted too).
            fault_at = datetime.fromtimestamp(time.time() - (time.monotonic() - started) - 1.0,
                                              UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            kills = [m for m in drill.events_for(pod, "Killing", since=fault_at)
                     if "failed liveness probe" in m]
            drill.note("restarted by the liveness probe", bool(kills),
                       (kills[-1] + f" ({after:.1f}s after the fault: a probe failure before "
                        "it counted toward failureThreshold)") if kills else "no such event")
            assert kills, (
                f"{pod} restarted {after:.1f}s after the fault, sooner than its liveness probe "
                f"can act ({liveness.earliest_action:g}s), and no Killing event says the "
                "liveness probe did it: something else restarted it")
    with drill.step(f"{pod} Ready again (1/1 Running {restarts_before + 1})",
                    disturbs=[pod]):
        drill.wait(pod_running_ready(drill.pods, pod))
        trace = restart_trace(drill.pods.events(since), pod, uid, restarts_before)
        assert trace.restarted is not None
        assert trace.unready is not None and trace.unready.seq <= trace.restarted.seq, (
            f"{pod} was never seen not ready before its restart: {trace.describe()}")
        assert trace.restarted.pod.restarts == restarts_before + 1, trace.describe()
    if script is not None:
        with drill.step(f"kubectl exec {pod} -- test -e {script}: the new container has it "
                        "again"):
            back = drill.exec(pod, ["test", "-e", script])
            assert back.exit_code == 0, f"{script} is still missing after the restart"
            drill.note("undo", True, undo())
    else:
        with drill.step(f"the hung container of {pod} was replaced: nothing left to continue"):
            drill.note("undo", True, undo())
    with drill.step("one leader; every sentinel on every server"):
        drill.zk.check_sentinels()
