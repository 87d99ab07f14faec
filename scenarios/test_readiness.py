"""Testing for readiness: a server that is not ready receives no client traffic.

Tutorial section: "Testing for readiness". What this drill checks:

- at the start zk-0 is a ready address of the client Service's Endpoints (``zk-cs``);
- once its readiness probe fails (the probe script removed, as in the liveness drill) zk-0 is
  moved to ``notReadyAddresses`` while the other servers stay ready addresses;
- when zk-0 is Ready again (after its liveness restart) it is a ready address again;
- the other pods are not disturbed, and every sentinel written before is on every server.
"""

from __future__ import annotations

import pytest

from harness.drill import Drill, DrillFailure, in_endpoints, pod_running_ready, restart_trace

pytestmark = [pytest.mark.readiness, pytest.mark.destructive]


def test_unready_server_leaves_the_client_service(drill: Drill) -> None:
    pod = drill.target_pod()
    others = [n for n in drill.names if n != pod]
    service = drill.client_service()
    if drill.probe(pod, "readiness") is None:
        raise DrillFailure(f"{pod} has no readinessProbe: nothing takes a server that stops "
                           f"serving out of {service} (the tutorial's probe runs "
                           f"{drill.profile.ready_script_on_path.rsplit('/', 1)[-1]})")
    with drill.step(f"kubectl get endpoints {service}: {pod} is a ready address"):
        drill.wait(in_endpoints(drill.pods, drill.objects, service, pod, "ready"))
    since = drill.pods.last_seq
    with drill.step(f"kubectl exec {pod} -- rm {drill.profile.ready_script}", disturbs=[pod]):
        removal = drill.faults.remove_file(pod, drill.profile.ready_script)
    with drill.step(f"{pod} not ready: moved to notReadyAddresses of {service}",
                    disturbs=[pod]):
        drill.wait(in_endpoints(drill.pods, drill.objects, service, pod, "notReady"),
                   timeout=drill.timeouts.pod_ready, recheck=0.5)
        for other in others:
            state = drill.endpoint_state(service, other)
            drill.note(f"{other} in {service}", state == "ready", state)
            assert state == "ready", f"{other} is {state} in {service} while {pod} is out"
    with drill.step(f"{pod} Ready again: back among the ready addresses of {service}",
                    disturbs=[pod]):
        drill.wait(pod_running_ready(drill.pods, pod))
        drill.wait(in_endpoints(drill.pods, drill.objects, service, pod, "ready"))
        trace = restart_trace(drill.pods.events(since), pod, removal.uid,
                              removal.restarts_before)
        if trace.restarted is not None:
            drill.measure("restart_after_s", trace.restarted.mono - removal.removed_at)
        drill.note("undo", True, removal.undo())
    with drill.step("one leader; every sentinel on every server"):
        drill.zk.check_sentinels()
