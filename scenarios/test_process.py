"""Handling process failure: kill the ZooKeeper process, Kubernetes restarts the container.

Tutorial section: "Handling process failure". What this drill checks:

- ``kubectl exec zk-0 -- pkill java`` ends zk-0's container: the watch shows zk-0 not ready
  (``0/1 Error 0`` in the tutorial), then ``Running`` with RESTARTS one higher, then
  ``1/1 Running`` -- the same pod (same uid), restarted in place (restartPolicy Always);
- the previous container ended on the signal (reason Error, exit 143 or 137);
- while zk-0 was down the two other servers kept accepting writes (a client writing
  throughout), and afterwards the ensemble has one leader again;
- every sentinel written before is on every server, and no acknowledged write was lost.
"""

from __future__ import annotations

import pytest

from harness.disruption import writer
from harness.ensemble import Ensemble
from harness.faults import Faults
from harness.model.disruption import restart_trace
from harness.predicates import pod_restarted
from harness.servers import ZooKeeper
from harness.steps import DrillRecorder
from harness.zk.writer import missing

pytestmark = [pytest.mark.process, pytest.mark.destructive]


def test_pkill_java_restarts_the_container(
    ensemble: Ensemble, zk: ZooKeeper, faults: Faults, step: DrillRecorder
) -> None:
    pod, process = ensemble.names[0], ensemble.profile.process_name
    assert ensemble.pods is not None
    before = ensemble.pods.current()[pod]
    since = ensemble.pods.last_seq
    client = writer(ensemble)
    try:
        with step(f"kubectl exec {pod} -- pkill {process}"):
            killed = ensemble.exec(pod, ["pkill", process])
            assert killed.exit_code == 0, f"pkill found nothing to kill: {killed.describe()}"
        with step(f"kubectl get pod -w: {pod} not ready, then RESTARTS {before.restarts + 1}, "
                  "then 1/1 Running"):
            ensemble.wait(pod_restarted(ensemble.pods, pod, before.restarts),
                          timeout=ensemble.settings.timeouts.pod_ready)
            trace = restart_trace(ensemble.pods.events(since), pod, before.uid, before.restarts)
            step.note("timeline", True, trace.describe())
            assert trace.replaced is None, f"{pod} was replaced, not restarted: {trace.describe()}"
            assert trace.unready is not None and trace.restarted is not None, trace.describe()
            assert trace.unready.seq <= trace.restarted.seq, (
                f"{pod} restarted without being seen not ready first: {trace.describe()}")
            assert trace.ready_again is not None, trace.describe()
            assert trace.restarted.pod.restarts == before.restarts + 1, (
                f"expected exactly one restart: {trace.describe()}")
            container = ensemble.pods.current()[pod].containers[0]
            step.note("previous container", True,
                      f"exit {container.last_exit_code}, reason {container.last_reason}")
            assert trace.error is not None or container.last_reason == "Error", (
                f"the killed container did not end in Error: exit {container.last_exit_code}, "
                f"reason {container.last_reason!r}")
        with step("the ensemble kept serving while it was down, and has one leader"):
            ensemble.wait_serving()
            zk.leader()
    finally:
        report = client.stop()
    step.note("writer", True, report.describe())
    down_from, down_to = trace.unready.mono, trace.ready_again.mono
    assert report.acked_between(down_from, down_to) > 0, (
        f"no write was accepted during the {down_to - down_from:.1f}s {pod} was not ready: "
        f"the other servers did not keep a quorum ({report.describe()})")
    with step("every sentinel on every server; no acknowledged write lost"):
        zk.check_sentinels()
        lost = missing(ensemble.servers.endpoint(ensemble.names[-1]), report)
        assert not lost, f"{len(lost)} acknowledged writes are gone: {lost[:5]}"
