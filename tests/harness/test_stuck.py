"""StartWatch: which stuck pods fail a wait at once, and which are left to the timeout."""

from __future__ import annotations

from typing import Any

import pytest

from harness.model.stuck import StartWatch
from tests.harness.pods import condition, pod, status, terminated, waiting

UNSCHEDULABLE_CPU = ("0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are "
                     "available: 4 No preemption victims found for incoming pod.")
CORDONED = ("0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't match "
            "pod anti-affinity rules. preemption: ...")
TAINTED = ("0/4 nodes are available: 1 node(s) had untolerated taint "
           "{node.kubernetes.io/unreachable: }, 3 node(s) didn't match pod anti-affinity rules.")


def waiting_pod(reason: str, message: str = "", restarts: int = 0) -> dict[str, Any]:
    return pod(phase="Pending", statuses=[status(waiting(reason, message), restarts=restarts)])


def pending(message: str) -> dict[str, Any]:
    cond = condition("PodScheduled", False, "Unschedulable")
    cond["message"] = message
    return pod(phase="Pending", node=None, conditions=[cond])


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "CreateContainerConfigError",
                                    "InvalidImageName", "CreateContainerError"])
def test_a_hopeless_waiting_reason_blocks_after_the_grace(reason: str) -> None:
    watch = StartWatch(grace=20.0)
    stuck = waiting_pod(reason, "image not available in localkube")
    assert watch.blocker(stuck, now=100.0) is None
    assert watch.blocker(stuck, now=119.0) is None
    found = watch.blocker(stuck, now=120.0)
    assert found is not None
    assert found.describe() == f"zk-0 cannot start: {reason}: image not available in localkube"


def test_errimagepull_and_its_backoff_count_as_one_reason() -> None:
    watch = StartWatch(grace=20.0)
    assert watch.blocker(waiting_pod("ErrImagePull", "not found"), now=0.0) is None
    assert watch.blocker(waiting_pod("ImagePullBackOff", "Back-off"), now=10.0) is None
    found = watch.blocker(waiting_pod("ErrImagePull", "not found"), now=20.0)
    assert found is not None and found.reason == "ErrImagePull"


def test_a_reason_that_clears_starts_its_grace_again() -> None:
    watch = StartWatch(grace=20.0)
    assert watch.blocker(waiting_pod("ImagePullBackOff"), now=0.0) is None
    assert watch.blocker(waiting_pod("ContainerCreating"), now=15.0) is None
    assert watch.blocker(waiting_pod("ImagePullBackOff"), now=25.0) is None
    assert watch.blocker(waiting_pod("ImagePullBackOff"), now=45.0) is not None


def test_crash_loop_counts_only_crashes_during_the_wait() -> None:
    watch = StartWatch(crashes=3)
    assert watch.blocker(waiting_pod("CrashLoopBackOff", restarts=5), now=0.0) is None
    assert watch.blocker(waiting_pod("CrashLoopBackOff", restarts=7), now=60.0) is None
    looping = pod(phase="Running", statuses=[status(
        waiting("CrashLoopBackOff", "back-off 40s restarting failed container"),
        restarts=8, last=terminated(1, "Error"))])
    found = watch.blocker(looping, now=120.0)
    assert found is not None
    assert found.describe() == ("zk-0 cannot start: CrashLoopBackOff: 3 crashes during this "
                                "wait; last exit code 1; back-off 40s restarting failed container")


def test_a_restart_the_drill_caused_is_not_a_crash_loop() -> None:
    watch = StartWatch(crashes=3)
    assert watch.blocker(waiting_pod("CrashLoopBackOff", restarts=1), now=0.0) is None
    running = pod(statuses=[status({"running": {}}, ready=True, restarts=1)])
    assert watch.blocker(running, now=5.0) is None


def test_unschedulable_for_want_of_resources_blocks_after_the_grace() -> None:
    watch = StartWatch(grace=20.0)
    assert watch.blocker(pending(UNSCHEDULABLE_CPU), now=0.0) is None
    found = watch.blocker(pending(UNSCHEDULABLE_CPU), now=20.0)
    assert found is not None
    assert found.reason == "FailedScheduling" and "Insufficient cpu" in found.message


@pytest.mark.parametrize("message", [CORDONED, TAINTED,
                                     "0/4 nodes are available: pod has unbound immediate "
                                     "PersistentVolumeClaims."])
def test_unschedulable_for_a_passing_cause_never_blocks(message: str) -> None:
    watch = StartWatch(grace=20.0)
    assert watch.blocker(pending(message), now=0.0) is None
    assert watch.blocker(pending(message), now=600.0) is None


def test_a_deleted_pod_or_none_is_never_blocked() -> None:
    watch = StartWatch(grace=0.0)
    assert watch.blocker(None, now=0.0) is None
    gone = pod(deleting=True, statuses=[status(waiting("ImagePullBackOff"))])
    assert watch.blocker(gone, now=10.0) is None


def test_the_grace_is_kept_per_pod_incarnation() -> None:
    watch = StartWatch(grace=20.0)
    old = waiting_pod("ImagePullBackOff")
    assert watch.blocker(old, now=0.0) is None
    new = waiting_pod("ImagePullBackOff")
    new["metadata"]["uid"] = "uid-new"
    assert watch.blocker(new, now=25.0) is None
    assert watch.blocker(new, now=45.0) is not None
