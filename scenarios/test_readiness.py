"""Testing for readiness: a server that is not ready receives no client traffic.

Tutorial section: "Testing for readiness". What this drill checks:

- at the start zk-0 is a ready address of the client Service's Endpoints (``zk-cs``);
- once its readiness probe fails (the probe script removed, as in the liveness drill) zk-0 is
  moved to ``notReadyAddresses`` while the other servers stay ready addresses;
- when zk-0 is Ready again (after its liveness restart) it is a ready address again;
- every sentinel written before is still on every server.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest

from harness.disruption import in_endpoints
from harness.ensemble import Ensemble
from harness.errors import DrillFailure
from harness.faults import Faults
from harness.kube.client import Cluster
from harness.kube.objects import SERVICE
from harness.model.disruption import endpoint_state, selector_matches
from harness.predicates import pod_running_ready
from harness.servers import ZooKeeper
from harness.steps import DrillRecorder

pytestmark = [pytest.mark.readiness, pytest.mark.destructive]


def test_unready_server_leaves_the_client_service(
    ensemble: Ensemble, zk: ZooKeeper, faults: Faults, cluster: Cluster, step: DrillRecorder
) -> None:
    pod, others = ensemble.names[0], ensemble.names[1:]
    assert ensemble.pods is not None
    timeouts = ensemble.settings.timeouts
    service = _client_service(cluster, ensemble)
    with step(f"kubectl get endpoints {service}: {pod} is a ready address"):
        ensemble.wait(in_endpoints(cluster, service, pod, "ready", ensemble.pods),
                      timeout=timeouts.step)
    with ExitStack() as stack:
        with step(f"kubectl exec {pod} -- rm {ensemble.profile.ready_script}"):
            stack.enter_context(faults.script_removed(pod, ensemble.profile.ready_script))
        with step(f"{pod} not ready: moved to notReadyAddresses of {service}"):
            ensemble.wait(in_endpoints(cluster, service, pod, "notReady", ensemble.pods),
                          timeout=timeouts.pod_ready, recheck=0.5)
            endpoints = cluster.endpoints(service)
            for other in others:
                state = endpoint_state(endpoints, other)
                step.note(f"{other} in {service}", state == "ready", state)
                assert state == "ready", f"{other} is {state} in {service} while {pod} is out"
        with step(f"{pod} Ready again: back among the ready addresses of {service}"):
            ensemble.wait(pod_running_ready(ensemble.pods, pod), timeout=timeouts.pod_ready)
            ensemble.wait(in_endpoints(cluster, service, pod, "ready", ensemble.pods),
                          timeout=timeouts.step)
    with step("one leader; every sentinel on every server"):
        ensemble.wait_serving()
        zk.check_sentinels()


def _client_service(cluster: Cluster, ensemble: Ensemble) -> str:
    """The Service with a cluster IP that selects the ensemble's pods (``zk-cs``)."""
    sts = cluster.statefulset(ensemble.target.statefulset) or {}
    labels = ((sts.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    found: list[dict[str, Any]] = [
        s for s in cluster.list_objects(SERVICE)
        if (s.get("spec") or {}).get("clusterIP") != "None"
        and (s.get("spec") or {}).get("selector")
        and selector_matches({"matchLabels": s["spec"]["selector"]}, labels)
    ]
    if not found:
        raise DrillFailure(f"no Service with a cluster IP selects the pods {labels}")
    return sorted(s["metadata"]["name"] for s in found)[0]
