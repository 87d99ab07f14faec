"""Managing the ensemble: a rolling update of the CPU request, then ``rollout undo``.

Tutorial section: "Managing the ensemble". What this drill checks:

- ``kubectl patch sts zk --type=json`` sets the CPU request to ``0.3``; the controller makes
  a new ControllerRevision;
- the pods are replaced zk-2, zk-1, zk-0, one at a time, each replacement Running and Ready
  before the next pod goes (read from the watched pod timeline), and ``rollout status``
  completes with every pod requesting 300m;
- ``kubectl rollout history`` shows two revisions (ControllerRevisions owned by the set);
- ``kubectl rollout undo`` rolls back: the pods are replaced again and every pod requests the
  manifest's CPU again (``500m``);
- throughout, at least a quorum of servers was Running and Ready, a client writing through
  every server had writes accepted while each server was being replaced, no acknowledged
  write was lost, and every sentinel is on every server.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from harness.disruption import revisions, rollout_undo, writer
from harness.ensemble import Ensemble
from harness.faults import Faults
from harness.kube.client import Cluster
from harness.model.disruption import container_spec, cpu_millis, fewest_ready, update_order
from harness.model.quorum import quorum_size
from harness.model.rollout import expected_update_order
from harness.predicates import statefulset_rolled_out
from harness.servers import ZooKeeper
from harness.steps import DrillRecorder
from harness.zk.writer import BackgroundWriter, WriterReport, missing

pytestmark = [pytest.mark.update, pytest.mark.destructive]

NEW_CPU = "0.3"


def test_rolling_update_and_rollback(
    ensemble: Ensemble, zk: ZooKeeper, faults: Faults, cluster: Cluster, step: DrillRecorder
) -> None:
    name, container = ensemble.target.statefulset, ensemble.target.container
    index = _container_index(cluster, name, container)
    patch = [{"op": "replace", "value": NEW_CPU,
              "path": f"/spec/template/spec/containers/{index}/resources/requests/cpu"}]
    client = writer(ensemble)
    reports: list[WriterReport] = []
    try:
        with ExitStack() as stack:
            with step(f"kubectl patch sts {name} --type=json -p '{patch}'"):
                patched = stack.enter_context(faults.template_patched(name, patch))
                before = container_spec(patched.previous["spec"], container)
                old_cpu = cpu_millis(before["resources"]["requests"]["cpu"])
                step.note("revisions", True, f"{patched.previous_revision} -> {patched.revision}")
            _roll(ensemble, cluster, step, client, "kubectl rollout status sts/" + name,
                  cpu_millis(NEW_CPU))
            with step(f"kubectl rollout history sts/{name}: two revisions"):
                history = revisions(cluster, name)
                shown = [f"{r['metadata']['name']} (revision {r.get('revision')})" for r in history]
                step.note("rollout history", len(history) == 2, ", ".join(shown))
                assert len(history) == 2, f"expected revisions 1 and 2, found {shown}"
            with step(f"kubectl rollout undo sts/{name}"):
                step.command(rollout_undo(cluster, name))
            _roll(ensemble, cluster, step, client, "rollout status after the undo", old_cpu)
            with step("restore the template recorded before the patch (already equal)"):
                stack.close()
    finally:
        reports.append(client.stop())
    step.note("writer", True, reports[0].describe())
    with step("no acknowledged write lost; every sentinel on every server"):
        lost = missing(ensemble.servers.endpoint(ensemble.names[0]), reports[0])
        assert not lost, f"{len(lost)} acknowledged writes are gone: {lost[:5]}"
        zk.check_sentinels()


def _roll(ensemble: Ensemble, cluster: Cluster, step: DrillRecorder, client: BackgroundWriter,
          title: str, cpu: int) -> None:
    """Wait for the rollout, then check its order, its quorum and its CPU requests."""
    assert ensemble.pods is not None
    names = ensemble.names
    current = ensemble.pods.current()
    old_uids = {n: current[n].uid for n in names if n in current}
    since = ensemble.pods.last_seq
    with step(title):
        ensemble.wait(statefulset_rolled_out(cluster, ensemble.target.statefulset,
                                             ensemble.pods.subscribe()),
                      timeout=ensemble.settings.timeouts.rollout)
    events = ensemble.pods.events(since)
    expected = [names[i] for i in expected_update_order(len(names))]
    with step(f"pods replaced {', '.join(expected)}, one at a time, each Ready before the next"):
        order = update_order(events, expected, old_uids)
        for line in order.evidence():
            step.note("replacement", order.ok, line)
        assert order.ok, "; ".join(order.problems)
        lowest, at = fewest_ready(events, names, initially_ready=names)
        need = quorum_size(len(names))
        step.note("fewest Running and Ready", lowest >= need,
                  f"{lowest} of {len(names)}" + (f" at {at.row()}" if at else ""))
        assert lowest >= need, f"only {lowest} pods were Ready at {at.row() if at else '?'}"
        for r in order.replacements:
            accepted = client.report.acked_between(r.went.mono, r.ready.mono)
            step.note(f"writes while {r.pod} was replaced", accepted > 0, str(accepted))
            assert accepted > 0, f"no write was accepted while {r.pod} was being replaced"
    with step(f"every pod requests {cpu}m CPU"):
        for pod in names:
            found = cluster.pod(pod)
            assert found is not None, f"{pod} does not exist"
            got = cpu_millis(container_spec(found["spec"], ensemble.target.container)
                             ["resources"]["requests"]["cpu"])
            assert got == cpu, f"{pod} requests {got}m CPU, expected {cpu}m"


def _container_index(cluster: Cluster, name: str, container: str) -> int:
    sts = cluster.statefulset(name)
    assert sts is not None, f"statefulset {name} does not exist"
    names = [c.get("name") for c in sts["spec"]["template"]["spec"]["containers"]]
    return names.index(container) if container in names else 0
