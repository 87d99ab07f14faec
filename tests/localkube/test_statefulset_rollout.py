"""The StatefulSet controller updating pods, against a real in-process control plane (no
mocks).

Checks: RollingUpdate 2→1→0 one at a time with the status transitions `kubectl rollout
status` prints; partition; OnDelete; rollback renumbers the old revision (history 2, 3) and
keeps kubectl's byte-for-byte "skipped rollback" test working; revision history limit;
revision names equal Kubernetes' for the same template, and the hash primitives behind them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from localkube import resources as R
from localkube.controllers.statefulset import revisions as V
from localkube.registry.core import STRATEGIC_PATCH
from tests.localkube.kubesim import NS, settle
from tests.localkube.statefulset_env import HASH, Env, manifest, rollout_status, scenario


def rollout_messages(env: Env, since: int) -> list[str]:
    out: list[str] = []
    for seen in env.rec.changes[since:]:
        if seen.resource == R.STATEFULSETS.key and seen.type != "DELETED":
            msg = rollout_status(seen.obj)[1]
            if not out or out[-1] != msg:
                out.append(msg)
    return out


def max_unhealthy(env: Env, since: int, names: list[str]) -> int:
    """Replay pod changes: the most pods that were missing, terminating or unready at once."""
    state = {n: env.pod(n) for n in names}
    worst = 0
    for seen in env.rec.changes[since:]:
        if seen.resource == R.PODS.key and seen.name in state:
            state[seen.name] = None if seen.type == "DELETED" else seen.obj
            bad = sum(1 for p in state.values()
                      if p is None or p["metadata"].get("deletionTimestamp")
                      or not any(c["type"] == "Ready" and c["status"] == "True"
                                 for c in p.get("status", {}).get("conditions", [])))
            worst = max(worst, bad)
    return worst


# -- updates -----------------------------------------------------------------------------
def test_rolling_update_highest_first_one_at_a_time(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        old = (await env.rolled_out())["status"]["currentRevision"]
        mark = len(env.rec.changes)
        env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/resources/"
                    "requests/cpu", "value": "0.3"}])
        sts = await env.rolled_out()
        new = sts["status"]["currentRevision"]
        assert new != old
        assert env.revisions()[new]["revision"] == 2
        assert {p["metadata"]["labels"][HASH] for p in env.pods().values()} == {new}
        assert all(p["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "300m"
                   for p in env.pods().values())

        deleted = [s.name for s in env.rec.changes[mark:]
                   if s.resource == "pods" and s.type == "DELETED"]
        assert deleted == ["zk-2", "zk-1", "zk-0"]
        for prev, nxt in (("zk-2", "zk-1"), ("zk-1", "zk-0")):
            back = env.rec.when(prev, lambda s: s.ready
                                and s.obj["metadata"]["labels"][HASH] == new)
            going = env.rec.when(nxt, lambda s: s.terminating)
            assert back < going, f"{prev} must be Ready again before {nxt} is deleted"
        assert max_unhealthy(env, mark, ["zk-0", "zk-1", "zk-2"]) == 1
        assert rollout_messages(env, mark) == [
            "Waiting for statefulset spec update to be observed...",
            f"waiting for statefulset rolling update to complete 0 pods at revision {new}...",
            "Waiting for 1 pods to be ready...",
            f"waiting for statefulset rolling update to complete 1 pods at revision {new}...",
            "Waiting for 1 pods to be ready...",
            f"waiting for statefulset rolling update to complete 2 pods at revision {new}...",
            "Waiting for 1 pods to be ready...",
            f"statefulset rolling update complete 3 pods at revision {new}...",
        ]

    scenario(tmp_path, body)


def test_partition_updates_only_ordinals_at_or_above_it(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(updateStrategy={"type": "RollingUpdate",
                                            "rollingUpdate": {"partition": 2}}))
        old = (await env.rolled_out())["status"]["currentRevision"]
        env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                    "value": "zk:2"}])

        def partitioned() -> dict | None:
            s = env.sts()
            done, _ = rollout_status(s)
            return s if done and s["status"]["observedGeneration"] == 2 else None

        sts = await env.until(partitioned, "partitioned roll out")
        await settle(env.cluster)
        new = sts["status"]["updateRevision"]
        labels = {n: p["metadata"]["labels"][HASH] for n, p in env.pods().items()}
        assert labels == {"zk-0": old, "zk-1": old, "zk-2": new}
        assert rollout_status(env.sts()) == (
            True, "partitioned roll out complete: 1 new pods have been updated...")
        st = env.sts()["status"]
        assert (st["currentRevision"], st["currentReplicas"], st["updatedReplicas"]) == \
            (old, 2, 1)
        # A deleted pod below the partition comes back at the current revision.
        env.registry.delete(R.PODS, NS, "zk-0", {})
        await env.until(lambda: env.pod("zk-0") and env.sts()["status"]["readyReplicas"] == 3,
                        "zk-0 back")
        assert env.pod("zk-0")["metadata"]["labels"][HASH] == old

        env.patch({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}},
                  STRATEGIC_PATCH)
        sts = await env.rolled_out()
        assert sts["status"]["currentRevision"] == new

    scenario(tmp_path, body)


def test_on_delete_replaces_only_deleted_pods(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(updateStrategy={"type": "OnDelete"}))
        await env.until(lambda: env.sts()["status"].get("readyReplicas") == 3, "ready")
        old = env.sts()["status"]["updateRevision"]
        env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                    "value": "zk:2"}])
        await env.until(lambda: env.sts()["status"].get("observedGeneration") == 2, "observed")
        await settle(env.cluster)
        st = env.sts()["status"]
        new = st["updateRevision"]
        assert new != old and st["currentRevision"] == old
        assert (st["currentReplicas"], st.get("updatedReplicas", 0)) == (3, 0)
        assert all(p["metadata"]["labels"][HASH] == old for p in env.pods().values())
        assert not env.events("SuccessfulDelete")

        env.registry.delete(R.PODS, NS, "zk-1", {})
        await env.until(lambda: (env.pod("zk-1") or {}).get("metadata", {}).get(
            "labels", {}).get(HASH) == new and env.sts()["status"].get("updatedReplicas") == 1,
            "zk-1 recreated at the update revision")
        assert env.pod("zk-1")["spec"]["containers"][0]["image"] == "zk:2"

    scenario(tmp_path, body)


def test_rollback_renumbers_the_old_revision(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest())
        first = (await env.rolled_out())["status"]["currentRevision"]
        env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                    "value": "zk:2"}])
        second = (await env.rolled_out())["status"]["currentRevision"]
        revs = env.revisions()
        assert (revs[first]["revision"], revs[second]["revision"]) == (1, 2)

        # kubectl rollout undo: "current template already matches" is a byte comparison of
        # the revision data the server sends with the patch kubectl builds from the live set.
        def kubectl_patch(sts: dict) -> bytes:
            template = dict(sts["spec"]["template"], **{"$patch": "replace"})
            return V.go_json({"spec": {"template": template}})

        raw = env.raw_revision(second)
        assert b'"data":' + kubectl_patch(env.sts()) in raw  # would be "skipped rollback"
        assert b'"data":' + kubectl_patch(env.sts()) not in env.raw_revision(first)

        env.patch(revs[first]["data"], STRATEGIC_PATCH)  # what `rollout undo` sends
        sts = await env.rolled_out()
        assert sts["status"]["currentRevision"] == first
        revs = env.revisions()
        assert sorted(r["revision"] for r in revs.values()) == [2, 3]
        assert revs[first]["revision"] == 3
        assert {p["metadata"]["labels"][HASH] for p in env.pods().values()} == {first}
        assert all(p["spec"]["containers"][0]["image"] == "zk:1" for p in env.pods().values())
        assert b'"data":' + kubectl_patch(sts) in env.raw_revision(first)

    scenario(tmp_path, body)


def test_revision_history_limit(tmp_path: Path) -> None:
    async def body(env: Env) -> None:
        env.create(manifest(replicas=1, revisionHistoryLimit=1))
        await env.rolled_out(1)
        for image in ("zk:2", "zk:3", "zk:4"):
            env.patch([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                        "value": image}])
            await env.rolled_out(1)
        await settle(env.cluster)
        assert sorted(r["revision"] for r in env.revisions().values()) == [3, 4]

    scenario(tmp_path, body)


# -- revisions --------------------------------------------------------------------------
def test_revision_names_match_kubernetes(tmp_path: Path) -> None:
    """kubernetes/kubernetes' compatibility fixture: this set gets revision test-c77f6d978."""
    fixture: dict[str, Any] = {
        "metadata": {"name": "test", "labels": {"sslabel": "value"}},
        "spec": {
            "replicas": 1, "serviceName": "", "selector": {"matchLabels": {"app": "foo"}},
            "template": {"metadata": {"annotations": {"test": "value"}, "labels": {"app": "foo"}},
                         "spec": {"containers": [{"image": "test", "name": "test"}]}},
        },
    }

    async def body(env: Env) -> None:
        env.create(copy.deepcopy(fixture))
        await env.until(lambda: env.revisions(), "a revision")
        assert list(env.revisions()) == ["test-c77f6d978"]
        # The same template under another set name hashes the same way.
        other = copy.deepcopy(fixture)
        other["metadata"]["name"] = "other"
        other["spec"]["selector"] = {"matchLabels": {"app": "bar"}}
        other["spec"]["template"]["metadata"]["labels"] = {"app": "bar"}
        env.create(other)
        await env.until(lambda: len(env.revisions()) == 2, "second revision")
        assert "other-" + V.hash_data(V.revision_data(env.sts("other")), 0) in env.revisions()

    scenario(tmp_path, body)


def test_hash_primitives() -> None:
    assert V.fnv1_32(b"") == 0x811C9DC5
    assert V.fnv1_32(b"a") == 0x050C5D7E  # FNV-1, not FNV-1a (0xe40c292c)
    assert V.safe_encode("0123456789") == "456789bcdf"
    data = {"spec": {"template": {"$patch": "replace", "metadata": {"x": "<&>"}}}}
    assert V.go_json(data) == b'{"spec":{"template":{"$patch":"replace",' \
                              b'"metadata":{"x":"\\u003c\\u0026\\u003e"}}}}'
    assert V.hash_data(data, 0) != V.hash_data(data, 1)
