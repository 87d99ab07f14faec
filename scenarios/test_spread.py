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

from harness.drill import Drill

pytestmark = pytest.mark.spread


def test_servers_run_on_different_nodes(drill: Drill) -> None:
    with drill.step("kubectl get pod zk-N --template {{.spec.nodeName}}"):
        current = drill.pods.current()
        nodes = {pod: current[pod].node for pod in drill.names}
        for pod, node in nodes.items():
            drill.note(f"{pod} node", node is not None, str(node))
        shared = {n for n in nodes.values() if list(nodes.values()).count(n) > 1}
        assert not shared, f"servers share a node: {nodes}"


def test_anti_affinity_keeps_them_apart(drill: Drill) -> None:
    name = drill.target.statefulset
    with drill.step(f"kubectl get sts {name} -o yaml: spec.template.spec.affinity"):
        rule = drill.statefulset().anti_affinity()
        drill.note("required anti-affinity on kubernetes.io/hostname", rule.ok, rule.detail)
        assert rule.ok, (f"nothing guarantees the servers run on different nodes: {rule.detail}; "
                         "a node failure could take out a quorum")
