"""Testing for readiness: a server that is not ready receives no client traffic.

Tutorial section: "Testing for readiness". What this drill checks:

- at the start zk-0 is a ready address of the client Service's Endpoints (``zk-cs``);
- once its readiness probe fails (the probe script removed, as in the liveness drill; where
  it cannot be removed, the server hung with ``kill -STOP``) zk-0 is moved to
  ``notReadyAddresses`` while the other servers stay ready addresses;
- when zk-0 is Ready again (after its liveness restart, or the fault's undo: ``kill -CONT``
  of the hung server, or a restart where the liveness probe runs another script) it is a
  ready address again;
- the other pods are not disturbed, and every sentinel written before is on every server.
"""

from __future__ import annotations

import pytest

from harness.drill import Drill, DrillFailure, in_endpoints, pod_running_ready

pytestmark = [pytest.mark.readiness, pytest.mark.destructive]


def test_unready_server_leaves_the_client_service(drill: Drill) -> None:
    pod = drill.target_pod()
    others = [n for n in drill.names if n != pod]
    service = drill.client_service()
    if drill.probe(pod, "readiness") is None:
        raise DrillFailure(f"{pod} has no readinessProbe: nothing takes a server that stops "
                           f"serving out of {service}; add an exec readinessProbe that asks "
                           "ruok")
    with drill.step(f"kubectl get endpoints {service}: {pod} is a ready address"):
        drill.wait(in_endpoints(drill.pods, drill.objects, service, pod, "ready"))
    script, why = drill.removable_probe_script(pod, "readiness")
    # the liveness probe restarts the container only when it runs the same script (the
    # tutorial's zookeeper-ready; not Pravega's zookeeperReady.sh / zookeeperLive.sh)
    restarted_by_liveness = script is not None and (
        script == drill.removable_probe_script(pod, "liveness")[0])
    drill.note("fault", True, f"remove {script}: {why}" if script else
               f"hang the server (kill -STOP): {why}")
    if script is not None:
        with drill.step(f"kubectl exec {pod} -- rm {script}", disturbs=[pod]):
            undo = drill.faults.remove_file(pod, script).undo
    else:
        process = drill.profile.process_name
        with drill.step(f"kubectl exec {pod} -- kill -STOP <pid of {process}>: the server "
                        "hangs", disturbs=[pod]):
            undo = drill.faults.hang(pod, process).undo
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
        if not restarted_by_liveness:  # continue it, or restart it (restart_command)
            drill.note("undo", True, undo())
        drill.wait(pod_running_ready(drill.pods, pod))
        drill.wait(in_endpoints(drill.pods, drill.objects, service, pod, "ready"))
        if restarted_by_liveness:
            drill.note("undo", True, undo())
    with drill.step("one leader; every sentinel on every server"):
        drill.zk.check_sentinels()
