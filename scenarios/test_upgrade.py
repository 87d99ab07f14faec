"""A ZooKeeper upgrade behind a canary partition, lowered step by step, then rolled back.

From the StatefulSet tutorials' partitioned (canary) rolling updates, for what users report
going wrong in upgrades (a server replaced before the previous one rejoined). What this
drill checks:

- the image is set to ``--upgrade-image`` with the rolling update's partition at the highest
  ordinal: only that server is replaced (the others are untouched, a step invariant), it
  rejoins as a follower with every follower synced, and it serves reads and writes;
- the partition is lowered one ordinal at a time: each server is replaced only after the
  previous one is back in the ensemble (the leader's ``mntr`` counts every follower synced);
- ``kubectl rollout undo`` takes every server back to the old image, one at a time again;
- the version each server reports (``srvr``) is recorded after each step; the workload runs
  throughout, within one election's budget per step, and nothing is lost.

On a StatefulSet with ``updateStrategy: OnDelete`` the drill is skipped, saying why.
"""

from __future__ import annotations

import pytest

from harness.drill import Drill, followers_synced, statefulset_rolled_out

pytestmark = [pytest.mark.upgrade, pytest.mark.destructive]


def test_upgrade_behind_a_canary_partition(drill: Drill) -> None:
    sts = drill.statefulset()
    if sts.update_strategy != "RollingUpdate":
        pytest.skip(f"statefulset {sts.name} uses updateStrategy {sts.update_strategy}: pods "
                    "are replaced only when deleted, so there is no partition to canary behind")
    names, image = drill.names, drill.upgrade_image()
    container = sts.container(drill.target.container)
    old_image = str(container.raw.get("image"))
    strategy = "/spec/updateStrategy/rollingUpdate"
    canary = len(names) - 1
    with drill.step(f"kubectl patch sts {sts.name}: image {image}, partition {canary}",
                    disturbs=[names[canary]]):
        patched = drill.faults.patch_rollout(sts.name, [
            {"op": "add", "path": strategy, "value": {"partition": canary}},
            {"op": "replace", "value": image,
             "path": f"/spec/template/spec/containers/{container.index}/image"}])
        drill.note("revisions", True, f"{patched.previous_revision} -> {patched.revision}")
    for partition in range(canary, -1, -1):
        pod = names[partition]
        if partition < canary:
            with drill.step(f"lower the partition to {partition}", disturbs=[pod]):
                patched.change([{"op": "replace", "path": f"{strategy}/partition",
                                 "value": partition}])
        with drill.step(f"{pod} on {image}, back in the ensemble", disturbs=[pod]):
            drill.wait(statefulset_rolled_out(drill.pods, drill.objects, sts.name))
            drill.wait(followers_synced(drill.pods, drill.leader_metrics, len(names)),
                       recheck=0.5)
            got = drill.container_image(pod)
            assert got == image, f"{pod} runs {got}, expected {image}"
            drill.note("versions", True, drill.server_versions())
        if partition == canary:
            with drill.step(f"the canary {pod} serves reads and writes as a follower"):
                role = drill.role_of(pod)
                assert role == "follower", f"the canary {pod} is {role}, not a follower"
                path, value = f"/upgrade-{drill.run_id}", f"canary-{drill.run_id}"
                drill.zk.write(pod, path, value)
                for other in names:
                    drill.zk.expect(other, path, value, why=f" (written through {pod})")
    with drill.step(f"kubectl rollout undo sts/{sts.name}: back to {old_image}",
                    disturbs=names):
        drill.rollout_undo()
        patched.change()  # the journal knows the set as the undo left it
        drill.wait(statefulset_rolled_out(drill.pods, drill.objects, sts.name))
        drill.wait(followers_synced(drill.pods, drill.leader_metrics, len(names)), recheck=0.5)
        for pod in names:
            got = drill.container_image(pod)
            assert got == old_image, f"{pod} runs {got} after the undo, expected {old_image}"
        drill.note("versions", True, drill.server_versions())
    with drill.step("restore the update strategy recorded before the upgrade"):
        drill.note("undo", True, patched.undo())
