"""The public drill API: everything a drill in ``scenarios/`` may use, and nothing else.

A drill is a pytest test that takes the ``drill`` fixture (a ``Drill``) and reads like the
tutorial section it follows::

    from harness.drill import Drill, pod_restarted

    @pytest.mark.process
    def test_pkill(drill: Drill) -> None:
        with drill.step("kubectl exec zk-0 -- pkill java", disturbs=["zk-0"]):
            drill.exec("zk-0", ["pkill", "java"])
        with drill.step("zk-0 restarts", disturbs=["zk-0"]):
            drill.wait(pod_restarted(drill.pods, "zk-0", 0))

Conditions take the event source first (``drill.pods``) and, for objects, ``drill.objects``;
``drill.wait`` bounds each by its timeout class. The import contracts in ``pyproject.toml``
(checked in CI) keep ``scenarios`` on this module only.
"""

from harness.conditions import (
    budget_allows,
    eviction_refused,
    followers_synced,
    in_endpoints,
    new_leader,
    node_ready,
    pod_exists,
    pod_gone,
    pod_placed,
    pod_restarted,
    pod_running_ready,
    pod_terminating,
    pod_unready,
    pod_unschedulable,
    pods_gone,
    pods_ready,
    pvcs_bound,
    quorum_without,
    ready_elsewhere,
    rollout_settled,
    running_ready,
    statefulset_rolled_out,
)
from harness.drilling import Drill
from harness.errors import DrillFailure, StabilityLost, WaitTimeout
from harness.model.disruption import (
    ProbeTimes,
    cpu_millis,
    fewest_ready,
    restart_trace,
    update_order,
)
from harness.model.drain import PDB_REFUSAL, DrainOptions
from harness.model.ordinals import expected_server_lines
from harness.model.progress import Progress
from harness.model.quorum import quorum_size
from harness.model.rollout import expected_update_order
from harness.model.zoocfg import parse_zoo_cfg
from harness.timeline import creation_order
from harness.waits import Condition, wait_until_stable
from harness.zk.profile import parse_start_flags

__all__ = [
    "PDB_REFUSAL",
    "Condition",
    "DrainOptions",
    "Drill",
    "DrillFailure",
    "ProbeTimes",
    "Progress",
    "StabilityLost",
    "WaitTimeout",
    "budget_allows",
    "cpu_millis",
    "creation_order",
    "eviction_refused",
    "expected_server_lines",
    "expected_update_order",
    "fewest_ready",
    "followers_synced",
    "in_endpoints",
    "new_leader",
    "node_ready",
    "parse_start_flags",
    "parse_zoo_cfg",
    "pod_exists",
    "pod_gone",
    "pod_placed",
    "pod_restarted",
    "pod_running_ready",
    "pod_terminating",
    "pod_unready",
    "pod_unschedulable",
    "pods_gone",
    "pods_ready",
    "pvcs_bound",
    "quorum_size",
    "quorum_without",
    "ready_elsewhere",
    "restart_trace",
    "rollout_settled",
    "running_ready",
    "statefulset_rolled_out",
    "update_order",
    "wait_until_stable",
]
