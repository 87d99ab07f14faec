"""Providing durable storage: delete the StatefulSet, apply it again, the data is still there.

Tutorial section: "Providing durable storage". What this drill checks:

- /hello = world (and the session's sentinel znodes) are written before anything is deleted;
- ``kubectl delete statefulset zk`` terminates every pod, while the claims they mounted
  stay Bound (``kubectl get pvc -l app=zk``);
- re-applying the manifest brings back 3/3 Running and Ready;
- zk-2 serves /hello = world, as ``zkCli.sh get /hello`` shows in the tutorial, and every
  server still has every sentinel and every write the workload had acknowledged before
  the ensemble went away;
- each pod mounts the same claim as before (same PVC uid, same volume).

It deletes the StatefulSet, so it is ``destructive``: on a real cluster it needs the opt-in;
the deletion is journaled, so a run killed before the re-apply has the set created again by
the next run or ``--zkdrill-repair``.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.drill import Drill, DrillFailure, pods_gone, pvcs_bound

pytestmark = [pytest.mark.durability, pytest.mark.destructive]


def test_data_survives_deleting_the_statefulset(drill: Drill) -> None:
    names, last = drill.names, drill.names[-1]
    value = f"world-{drill.run_id}"
    with drill.step(f"write /hello = world through {names[0]}"):
        drill.zk.write(names[0], "/hello", "world")
        drill.zk.write(names[0], f"/durability-{drill.run_id}", value)
    with drill.step("kubectl get pvc -l app=zk: the claim each pod mounts"):
        before = {pod: _identity(drill.data_claim(pod)) for pod in names}
        for pod in names:
            drill.note(f"{pod} data directory", True, drill.describe_data_volume(pod))
        claims = [c["name"] for c in before.values() if c is not None]
    with drill.step(f"kubectl delete statefulset {drill.target.statefulset}", disturbs=names,
                    may_lose_quorum=True):
        deletion = drill.delete_statefulset()
    with drill.step("watch every pod terminate; the claims stay Bound", disturbs=names,
                    may_lose_quorum=True):
        drill.wait(pods_gone(drill.pods, names))
        drill.wait(pvcs_bound(drill.pods, drill.objects, claims))
    with drill.step("kubectl apply the manifest again", disturbs=names, may_lose_quorum=True):
        drill.apply()
        drill.note("journal", True, deletion.undo())
    with drill.step(f"wait for {len(names)}/{len(names)} Running and Ready, and a leader",
                    disturbs=names, may_lose_quorum=True):
        drill.wait_ready()
        drill.wait_serving()
    with drill.step(f"kubectl exec {last} -- zkCli.sh get /hello"):
        why = (f": the data did not survive deleting the StatefulSet ({last}'s data directory "
               f"is on {drill.describe_data_volume(last)})")
        drill.zk.expect(last, "/hello", "world", why=why)
        drill.zk.expect(last, f"/durability-{drill.run_id}", value, why=why)
        shown = drill.zk.zkcli(last, "get", "/hello")
        assert "world" in shown.output.splitlines(), f"zkCli.sh disagrees: {shown.describe()}"
    with drill.step("every sentinel written earlier, on every server"):
        try:
            drill.zk.check_sentinels()
        except DrillFailure as exc:
            raise DrillFailure(f"the data did not survive deleting the StatefulSet: {exc}"
                               ) from exc
    with drill.step("each pod mounts the same claim as before"):
        for pod in names:
            after = _identity(drill.data_claim(pod))
            assert after == before[pod], (
                f"{pod} mounted {before[pod]} before and mounts {after} now")


def _identity(pvc: dict[str, Any] | None) -> dict[str, str] | None:
    """What makes a claim the same claim: name, uid, and the volume bound to it."""
    if pvc is None:
        return None
    return {
        "name": pvc["metadata"]["name"],
        "uid": pvc["metadata"].get("uid", ""),
        "volume": (pvc.get("spec") or {}).get("volumeName", ""),
    }
