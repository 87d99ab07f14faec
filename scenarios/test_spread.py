"""Tolerating node failure: the servers run on different nodes, because a rule says so.

Tutorial section: "Tolerating node failure". What this drill checks:

- ``for i in 0 1 2; do kubectl get pod zk-$i --template {{.spec.nodeName}}; done`` prints
  three different nodes;
- the StatefulSet's pod template has a *required* podAntiAffinity term on
  ``kubernetes.io/hostname`` whose label selector, evaluated literally against the pods' own
  labels, selects them -- so the spreading is guaranteed, not luck of the scheduler.

Read-only: it changes nothing on the cluster, so it is not marked ``destructive``.
"""

from __future__ import annotations

import pytest

from harness.ensemble import Ensemble
from harness.kube.client import Cluster
from harness.model.disruption import hostname_anti_affinity
from harness.steps import DrillRecorder

pytestmark = pytest.mark.spread


def test_servers_run_on_different_nodes(ensemble: Ensemble, step: DrillRecorder) -> None:
    assert ensemble.pods is not None
    with step("kubectl get pod zk-N --template {{.spec.nodeName}}"):
        current = ensemble.pods.current()
        nodes = {pod: current[pod].node for pod in ensemble.names}
        for pod, node in nodes.items():
            step.note(f"{pod} node", node is not None, str(node))
        shared = {n for n in nodes.values() if list(nodes.values()).count(n) > 1}
        assert not shared, f"servers share a node: {nodes}"


def test_anti_affinity_keeps_them_apart(
    ensemble: Ensemble, cluster: Cluster, step: DrillRecorder
) -> None:
    name = ensemble.target.statefulset
    with step(f"kubectl get sts {name} -o yaml: spec.template.spec.affinity"):
        sts = cluster.statefulset(name)
        assert sts is not None, f"statefulset {name} does not exist"
        rule = hostname_anti_affinity(sts["spec"]["template"])
        step.note("required anti-affinity on kubernetes.io/hostname", rule.ok, rule.detail)
        assert rule.ok, (f"nothing guarantees the servers run on different nodes: {rule.detail}; "
                         "a node failure could take out a quorum")
