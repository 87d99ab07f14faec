"""Providing durable storage: delete the StatefulSet, apply it again, the data is still there.

Tutorial section: "Providing durable storage". What this drill checks:

- /hello = world (and the session's sentinel znodes) are written before anything is deleted;
- ``kubectl delete statefulset zk`` terminates every pod, while the claims they mounted
  stay Bound (``kubectl get pvc -l app=zk``);
- re-applying the manifest brings back 3/3 Running and Ready;
- zk-2 serves /hello = world, as ``zkCli.sh get /hello`` shows in the tutorial, and every
  server still has every sentinel;
- each pod mounts the same claim as before (same PVC uid, same volume).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.ensemble import Ensemble
from harness.errors import DrillFailure
from harness.kube.client import Cluster
from harness.predicates import pods_gone, pvcs_bound
from harness.servers import ZooKeeper
from harness.steps import DrillRecorder

pytestmark = pytest.mark.durability


def test_data_survives_deleting_the_statefulset(
    ensemble: Ensemble, zk: ZooKeeper, cluster: Cluster, step: DrillRecorder
) -> None:
    names, last = ensemble.names, ensemble.names[-1]
    timeouts = ensemble.settings.timeouts
    with step(f"write /hello = world through {names[0]}"):
        zk.write(names[0], "/hello", "world")
    with step("kubectl get pvc -l app=zk: the claim each pod mounts"):
        before = {pod: _identity(ensemble.data_claim(pod)) for pod in names}
        for pod in names:
            step.note(f"{pod} data directory", True, ensemble.describe_data_volume(pod))
        claims = [c["name"] for c in before.values() if c is not None]
    with step(f"kubectl delete statefulset {ensemble.target.statefulset}"):
        ensemble.delete_statefulset()
    with step("watch every pod terminate; the claims stay Bound"):
        ensemble.wait(pods_gone(ensemble.pods, names), timeout=timeouts.rollout)
        ensemble.wait(pvcs_bound(cluster, claims), timeout=timeouts.step)
    with step("kubectl apply the manifest again"):
        ensemble.apply()
    with step(f"wait for {len(names)}/{len(names)} Running and Ready, and a leader"):
        ensemble.wait_ready()
        ensemble.wait_serving()
    with step(f"kubectl exec {last} -- zkCli.sh get /hello"):
        why = (
            f": the data did not survive deleting the StatefulSet ({last}'s data directory "
            f"is on {ensemble.describe_data_volume(last)})"
        )
        zk.expect(last, "/hello", "world", why=why)
        shown = zk.zkcli(last, "get", "/hello")
        assert "world" in shown.output.splitlines(), f"zkCli.sh disagrees: {shown.describe()}"
    with step("every sentinel written earlier, on every server"):
        try:
            zk.check_sentinels()
        except DrillFailure as exc:
            raise DrillFailure(f"the data did not survive deleting the StatefulSet: {exc}") from exc
    with step("each pod mounts the same claim as before"):
        for pod in names:
            after = _identity(ensemble.data_claim(pod))
            assert after == before[pod], (
                f"{pod} mounted {before[pod]} before and mounts {after} now"
            )


def _identity(pvc: dict[str, Any] | None) -> dict[str, str] | None:
    """What makes a claim the same claim: name, uid, and the volume bound to it."""
    if pvc is None:
        return None
    return {
        "name": pvc["metadata"]["name"],
        "uid": pvc["metadata"].get("uid", ""),
        "volume": (pvc.get("spec") or {}).get("volumeName", ""),
    }
