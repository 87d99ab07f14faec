"""Acceptance of "localkube part 1": the tutorial's control-plane behaviour, driven with the
real kubectl and the official Python client against `localkube up --no-kubelets`.

Nothing runs containers here: `KubeletStandIn` writes pod status through the status
subresource and finishes graceful deletions with grace 0, as Kubernetes' own integration
tests do; the ordering test marks pods Ready itself with `kubectl patch --subresource=status`.
Tests share one private control plane and run in file order (the tutorial's order); each
starts from a ready ensemble, so any one of them also runs alone.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client

from tests.localkube.cluster_fixtures import (
    MANIFEST,
    NS,
    ZK_PODS,
    Kubectl,
    KubeletStandIn,
    LineStream,
    PodWatch,
    api_client,
    is_ready,
    phase,
    start_localkube,
)
from tests.localkube.conftest import ControlPlane, stop_control_plane

pytestmark = pytest.mark.slow

CPU_PATCH = ('[{"op": "replace", "path": "/spec/template/spec/containers/0/resources/requests'
             '/cpu", "value":"0.3"}]')
CREATED = ["service/zk-hs created", "service/zk-cs created",
           "poddisruptionbudget.policy/zk-pdb created", "statefulset.apps/zk created"]
# What a real 1.32 cluster prints for an unchanged re-apply: the PDB's selector is a
# `patchStrategy: replace` field client-side apply always re-sends, and the stored StatefulSet
# differs from the manifest (cpu "0.5" reads back 500m, defaults), so both say "configured"
# although the server changes nothing.
REAPPLIED = ["service/zk-hs unchanged", "service/zk-cs unchanged",
             "poddisruptionbudget.policy/zk-pdb configured", "statefulset.apps/zk configured"]
WAIT = 20.0


@dataclass
class Env:
    cp: ControlPlane
    api: Any
    kubectl: Kubectl
    watch: PodWatch
    kubelet: KubeletStandIn

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    def plain(self, obj: Any) -> Any:
        """A client model (or list of them) as the JSON the server sent."""
        return self.api.sanitize_for_serialization(obj)

    def sts(self) -> dict:
        return self.plain(self.apps.read_namespaced_stateful_set("zk", NS))

    def pods(self) -> dict[str, dict]:
        return self.watch.snapshot()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    cp = start_localkube(tmp_path_factory.mktemp("accept-controlplane"), kubelets=False)
    api = api_client(cp)
    kubectl = Kubectl(cp)
    watch = PodWatch(api).start()
    try:
        yield Env(cp, api, kubectl, watch, KubeletStandIn(watch))
    finally:
        watch.stop()
        kubectl.close()
        api.close()
        code = stop_control_plane(cp)
    assert code == 0, f"localkube up exited {code} on SIGTERM:\n{cp.log()}"


def ensemble_ready(env: Env) -> bool:
    """Three live, Ready pods, all at the set's update revision, and the set says so."""
    pods = [env.watch.pods.get(n) for n in ZK_PODS]
    return all(p and is_ready(p) and not p["metadata"].get("deletionTimestamp") for p in pods)


def ready_ensemble(env: Env) -> dict[str, dict]:
    """Apply the manifest (idempotent) and wait for 3/3 Ready at one revision."""
    env.kubelet.manual = False
    env.kubelet.hold.clear()
    for name in ZK_PODS:  # pods left unready by an earlier, failed test
        pod = env.pods().get(name)
        if pod and phase(pod) == "Running" and not is_ready(pod):
            env.kubelet.set_ready(name)
    env.kubectl("apply", "-f", str(MANIFEST))
    env.kubectl("rollout", "status", "sts/zk", "--timeout=20s", timeout=30)
    env.watch.wait(lambda: ensemble_ready(env), WAIT, "three ready pods")
    return env.pods()


def running(env: Env, name: str, revision: str | None = None) -> Callable[[], bool]:
    """A wait condition: the pod runs (at `revision`, if given) and is not terminating."""

    def check() -> bool:
        pod = env.watch.pods.get(name)
        return (pod is not None and phase(pod) == "Running"
                and not pod["metadata"].get("deletionTimestamp")
                and revision in (None, pod["metadata"]["labels"]["controller-revision-hash"]))

    return check


def is_line(text: str) -> Callable[[str], bool]:
    return lambda line: line == text


def get_rows(env: Env, *args: str) -> dict[str, list[str]]:
    """`kubectl get ...` as {name: columns}."""
    out = env.kubectl("get", *args).stdout.splitlines()
    return {line.split()[0]: line.split() for line in out[1:]}


def mark_ready_with_kubectl(env: Env, name: str) -> None:
    """What a kubelet's readiness prober reports, written the way a test would by hand."""
    body = json.dumps({"status": {"conditions": [{"type": "Ready", "status": "True"},
                                                 {"type": "ContainersReady", "status": "True"}]}})
    out = env.kubectl("patch", "pod", name, "--subresource=status", "-p", body).stdout
    assert out.strip() == f"pod/{name} patched"


# -- creation, ordering, apply, claims ---------------------------------------------------------


def test_apply_creates_objects_and_pods_start_in_ordinal_order(env: Env) -> None:
    if env.pods() or env.kubectl("get", "sts", "zk", check=False).returncode == 0:
        pytest.skip("needs a cluster without the ensemble (run the module from the start)")
    env.kubelet.manual = True  # pods become Running but stay unready until marked below
    start = env.watch.mark()
    assert env.kubectl("apply", "-f", str(MANIFEST)).stdout.splitlines() == CREATED
    for i, name in enumerate(ZK_PODS):
        env.watch.wait(running(env, name), WAIT, f"{name} running")
        # while this pod is not Ready, no later ordinal exists
        assert sorted(env.pods()) == list(ZK_PODS[: i + 1])
        row = get_rows(env, "pods", "-l", "app=zk")[name]
        assert row[1:3] == ["0/1", "Running"] and len(get_rows(env, "pods")) == i + 1
        mark_ready_with_kubectl(env, name)
    env.watch.wait(lambda: ensemble_ready(env), WAIT, "three ready pods")
    env.kubelet.manual = False

    events = env.watch.since(start)
    for earlier, later in itertools.pairwise(ZK_PODS):
        ready_at = next(i for i, e in enumerate(events) if e.name == earlier and e.ready)
        added_at = next(i for i, e in enumerate(events) if e.name == later and e.type == "ADDED")
        assert ready_at < added_at, f"{later} created before {earlier} was Ready"
    assert [e.name for e in events if e.type == "ADDED"] == list(ZK_PODS)
    nodes = {n: p["spec"]["nodeName"] for n, p in env.pods().items()}
    assert len(set(nodes.values())) == 3, f"anti-affinity spreads the pods: {nodes}"
    sts = env.sts()
    assert sts["status"]["readyReplicas"] == 3 and sts["status"]["replicas"] == 3
    assert get_rows(env, "sts")["zk"][1] == "3/3"
    # `kubectl get events` lists an object's events in the order they happened, as event
    # names (`<object>.<hex nanoseconds>`, client-go's recorder) sort chronologically
    out = env.kubectl("get", "events", "--field-selector", "involvedObject.name=zk").stdout
    messages = [line.split("statefulset/zk", 1)[1].strip() for line in out.splitlines()[1:]]
    assert messages == [m for i in range(3) for m in (
        f"create Claim datadir-zk-{i} Pod zk-{i} in StatefulSet zk success",
        f"create Pod zk-{i} in StatefulSet zk successful")], out


def test_second_apply_changes_nothing_on_the_server(env: Env) -> None:
    ready_ensemble(env)
    policy = client.PolicyV1Api(env.api)

    def versions() -> dict[str, str]:
        objs = [env.core.read_namespaced_service("zk-hs", NS),
                env.core.read_namespaced_service("zk-cs", NS),
                policy.read_namespaced_pod_disruption_budget("zk-pdb", NS),
                env.apps.read_namespaced_stateful_set("zk", NS)]
        return {o["metadata"]["name"]: o["metadata"]["resourceVersion"]
                for o in env.plain(objs)}

    before, generation = versions(), env.sts()["metadata"]["generation"]
    assert env.kubectl("apply", "-f", str(MANIFEST)).stdout.splitlines() == REAPPLIED
    assert versions() == before
    assert env.sts()["metadata"]["generation"] == generation == 1
    # a third apply after the "configured" ones is still a no-op
    assert env.kubectl("apply", "-f", str(MANIFEST)).stdout.splitlines() == REAPPLIED
    assert versions() == before


def test_claims_are_bound_one_per_pod(env: Env) -> None:
    pods = ready_ensemble(env)
    rows = get_rows(env, "pvc", "-l", "app=zk")
    assert sorted(rows) == ["datadir-zk-0", "datadir-zk-1", "datadir-zk-2"]
    for row in rows.values():
        assert row[1] == "Bound" and row[2].startswith("pvc-") and row[3:5] == ["10Gi", "RWO"]
    claims = env.plain(env.core.list_namespaced_persistent_volume_claim(
        NS, label_selector="app=zk"))["items"]
    assert {c["metadata"]["name"]: c["spec"]["volumeName"] for c in claims} == {
        r[0]: r[2] for r in rows.values()}
    for name, pod in pods.items():
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes["datadir"]["persistentVolumeClaim"] == {"claimName": f"datadir-{name}"}


# -- updates -----------------------------------------------------------------------------------


def dedup(lines: list[str]) -> list[str]:
    return [line for i, line in enumerate(lines) if i == 0 or lines[i - 1] != line]


def test_rolling_update_rollout_status_history_and_undo(env: Env) -> None:
    ready_ensemble(env)
    old = env.sts()["status"]["currentRevision"]
    env.kubelet.manual = True  # each replacement waits for us, so every step is observable
    start = env.watch.mark()
    out = env.kubectl("patch", "sts", "zk", "--type=json", "-p", CPU_PATCH).stdout
    assert out.strip() == "statefulset.apps/zk patched"
    new = env.sts()["status"]["updateRevision"]
    rollout = LineStream(env.kubectl.popen("rollout", "status", "sts/zk"))
    try:
        seen = 0
        for n, name in enumerate(reversed(ZK_PODS)):
            env.watch.wait(running(env, name, new), WAIT, f"{name} replaced at {new}")
            seen = rollout.expect(is_line("Waiting for 1 pods to be ready..."), WAIT,
                                  "a pod being replaced", seen) + 1
            env.kubelet.set_ready(name)
            if n < 2:
                seen = rollout.expect(is_line(
                    f"waiting for statefulset rolling update to complete {n + 1} pods at "
                    f"revision {new}..."), WAIT, f"{n + 1} pods updated", seen) + 1
        lines, err = rollout.finish(WAIT)
    finally:
        rollout.close()
        env.kubelet.manual = False
    assert rollout.proc.returncode == 0, err
    core = ["Waiting for 1 pods to be ready...",
            f"waiting for statefulset rolling update to complete 1 pods at revision {new}...",
            "Waiting for 1 pods to be ready...",
            f"waiting for statefulset rolling update to complete 2 pods at revision {new}...",
            "Waiting for 1 pods to be ready...",
            f"statefulset rolling update complete 3 pods at revision {new}..."]
    printed = dedup(lines)
    prefix = printed[: len(printed) - len(core)]
    assert printed[len(prefix):] == core, lines
    assert set(prefix) <= {"Waiting for statefulset spec update to be observed...",
                           f"waiting for statefulset rolling update to complete 0 pods at "
                           f"revision {new}..."}, lines

    # highest ordinal first, one at a time: each old pod goes only after its successor is Ready
    events = env.watch.since(start)
    doomed = [e.name for e in events if e.terminating and e.revision == old]
    assert dedup(doomed) == ["zk-2", "zk-1", "zk-0"]
    for before, after in (("zk-2", "zk-1"), ("zk-1", "zk-0")):
        ready = next(i for i, e in enumerate(events)
                     if e.name == before and e.revision == new and e.ready)
        goes = next(i for i, e in enumerate(events) if e.name == after and e.terminating)
        assert ready < goes
    cpu = env.sts()["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    assert cpu == "300m"

    history = env.kubectl("rollout", "history", "sts/zk").stdout
    assert history.split("\n")[0].strip() == "statefulset.apps/zk"
    assert [line.split() for line in history.splitlines()[1:] if line.strip()] == [
        ["REVISION", "CHANGE-CAUSE"], ["1", "<none>"], ["2", "<none>"]]
    undo = env.kubectl("rollout", "undo", "sts/zk").stdout
    assert undo.strip() == "statefulset.apps/zk rolled back"
    done = env.kubectl("rollout", "status", "sts/zk", "--timeout=20s", timeout=30).stdout
    assert done.splitlines()[-1] == (
        f"statefulset rolling update complete 3 pods at revision {old}...")
    history = env.kubectl("rollout", "history", "sts/zk").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]
    revisions = env.plain(env.apps.list_namespaced_controller_revision(
        NS, label_selector="app=zk"))["items"]
    assert {r["metadata"]["name"]: r["revision"] for r in revisions} == {new: 2, old: 3}
    env.watch.wait(lambda: ensemble_ready(env) and all(
        p["metadata"]["labels"]["controller-revision-hash"] == old
        for p in env.watch.pods.values()), WAIT, "all pods back at the first revision")
    cpu = env.sts()["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    assert cpu == "500m"


# -- nodes -------------------------------------------------------------------------------------


def node_status(env: Env, node: str) -> str:
    return get_rows(env, "nodes")[node][1]


def test_cordon_and_uncordon(env: Env) -> None:
    ready_ensemble(env)
    free = ({"node-1", "node-2", "node-3", "node-4"}
            - {p["spec"]["nodeName"] for p in env.pods().values()}).pop()
    try:
        assert env.kubectl("cordon", free).stdout.strip() == f"node/{free} cordoned"
        assert env.kubectl("cordon", free).stdout.strip() == f"node/{free} already cordoned"
        assert node_status(env, free) == "Ready,SchedulingDisabled"
        env.kubectl("wait", f"node/{free}", "--for=jsonpath={.spec.taints[0].key}="
                    "node.kubernetes.io/unschedulable", "--timeout=10s")
        node = env.plain(env.core.read_node(free))
        assert node["spec"]["unschedulable"] is True
        assert node["spec"]["taints"] == [
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    finally:
        assert env.kubectl("uncordon", free).stdout.strip() == f"node/{free} uncordoned"
    assert env.kubectl("uncordon", free).stdout.strip() == f"node/{free} already uncordoned"
    assert node_status(env, free) == "Ready"
    assert not env.plain(env.core.read_node(free))["spec"].get("unschedulable")


def drain(env: Env, node: str, *extra: str) -> Any:
    return env.kubectl("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", *extra,
                       check=False, timeout=60)


def test_drain_respects_the_disruption_budget(env: Env) -> None:
    pods = ready_ensemble(env)
    nodes = {n: p["spec"]["nodeName"] for n, p in pods.items()}
    free = ({"node-1", "node-2", "node-3", "node-4"} - set(nodes.values())).pop()
    assert get_rows(env, "pdb", "zk-pdb")["zk-pdb"][1:4] == ["N/A", "1", "1"]
    try:
        # zk-0's node: the pod is evicted and comes back on the only free node
        old_uid = pods["zk-0"]["metadata"]["uid"]
        res = drain(env, nodes["zk-0"])
        assert res.returncode == 0, res.stderr
        assert res.stdout.splitlines() == [
            f"node/{nodes['zk-0']} cordoned", "evicting pod default/zk-0", "pod/zk-0 evicted",
            f"node/{nodes['zk-0']} drained"]
        moved = env.watch.wait(lambda: (
            (p := env.watch.pods.get("zk-0")) and p["metadata"]["uid"] != old_uid
            and is_ready(p) and p), WAIT, "zk-0 back and ready")
        assert moved["spec"]["nodeName"] == free

        # zk-2's node: anti-affinity leaves zk-2 nowhere to go
        res = drain(env, nodes["zk-2"])
        assert res.returncode == 0 and "pod/zk-2 evicted" in res.stdout, res.stderr
        env.watch.wait(lambda: (p := env.watch.pods.get("zk-2")) and not is_ready(p)
                       and not p["metadata"].get("deletionTimestamp"), WAIT, "zk-2 pending")
        env.kubectl("wait", "pdb/zk-pdb", "--for=jsonpath={.status.disruptionsAllowed}=0",
                    "--timeout=10s")
        assert get_rows(env, "pods", "zk-2")["zk-2"][1:3] == ["0/1", "Pending"]
        env.kubectl("wait", "pod/zk-2", "--for=condition=PodScheduled=False", "--timeout=10s")
        events = env.kubectl("get", "events", "--field-selector",
                             "involvedObject.name=zk-2,reason=FailedScheduling").stdout
        assert ("0/4 nodes are available: 2 node(s) didn't match pod anti-affinity rules, "
                "2 node(s) were unschedulable.") in events

        # zk-1's node: the budget is spent, so eviction is refused until the timeout
        uid_1 = env.pods()["zk-1"]["metadata"]["uid"]
        res = drain(env, nodes["zk-1"], "--timeout=8s")
        assert res.returncode == 1
        assert res.stdout.count("evicting pod default/zk-1") >= 2  # retried after 5 s
        assert ('error when evicting pods/"zk-1" -n "default" (will retry after 5s): Cannot '
                "evict pod as it would violate the pod's disruption budget.") in res.stderr
        assert (f'error: unable to drain node "{nodes["zk-1"]}" due to error: error when '
                'evicting pods/"zk-1" -n "default": global timeout reached: 8s, continuing '
                "command...") in res.stderr
        assert f"There are pending nodes to be drained:\n {nodes['zk-1']}" in res.stderr
        zk1 = env.pods()["zk-1"]
        assert zk1["metadata"]["uid"] == uid_1 and not zk1["metadata"].get("deletionTimestamp")
        assert all(node_status(env, nodes[n]) == "Ready,SchedulingDisabled"
                   for n in ("zk-0", "zk-1", "zk-2"))

        # uncordoning zk-0's old node gives zk-2 a place again
        out = env.kubectl("uncordon", nodes["zk-0"]).stdout.strip()
        assert out == f"node/{nodes['zk-0']} uncordoned"
        back = env.watch.wait(lambda: (p := env.watch.pods.get("zk-2")) and is_ready(p) and p,
                              WAIT, "zk-2 rescheduled")
        assert back["spec"]["nodeName"] == nodes["zk-0"]
    finally:
        for node in ("node-1", "node-2", "node-3", "node-4"):
            env.kubectl("uncordon", node)
    ready_ensemble(env)


# -- deletion and adoption ---------------------------------------------------------------------


def claims(env: Env) -> dict[str, tuple[str, str, str]]:
    items = env.plain(env.core.list_namespaced_persistent_volume_claim(
        NS, label_selector="app=zk"))["items"]
    return {c["metadata"]["name"]: (c["metadata"]["uid"], c["spec"]["volumeName"],
                                    c["status"]["phase"]) for c in items}


def test_delete_keeps_claims_and_reapply_reuses_them(env: Env) -> None:
    ready_ensemble(env)
    before = claims(env)
    assert len(before) == 3 and {c[2] for c in before.values()} == {"Bound"}
    start = env.watch.mark()
    out = env.kubectl("delete", "sts", "zk").stdout
    assert out.strip() == 'statefulset.apps "zk" deleted'
    env.watch.wait(lambda: not env.watch.pods, WAIT, "every pod gone")
    assert {e.name for e in env.watch.since(start) if e.type == "DELETED"} == set(ZK_PODS)
    assert claims(env) == before
    assert env.kubectl("get", "sts", "zk", check=False).returncode == 1

    applied = env.kubectl("apply", "-f", str(MANIFEST)).stdout.splitlines()
    assert applied[3] == "statefulset.apps/zk created" and applied[:2] == REAPPLIED[:2]
    pods = env.watch.wait(lambda: ensemble_ready(env) and dict(env.watch.pods), WAIT,
                          "pods re-created")
    assert claims(env) == before
    for name, pod in pods.items():
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes["datadir"]["persistentVolumeClaim"]["claimName"] == f"datadir-{name}"
    added = [e.name for e in env.watch.since(start) if e.type == "ADDED"]
    assert added == list(ZK_PODS), "re-created one at a time, in order"


def controller_uid(pod: dict) -> str | None:
    refs = [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")]
    return refs[0]["uid"] if refs else None


def test_orphaned_pods_are_adopted_by_a_reapplied_set(env: Env) -> None:
    pods = ready_ensemble(env)
    uids = {n: p["metadata"]["uid"] for n, p in pods.items()}
    old_set = env.sts()["metadata"]["uid"]
    start = env.watch.mark()
    out = env.kubectl("delete", "sts", "zk", "--cascade=orphan").stdout
    assert out.strip() == 'statefulset.apps "zk" deleted'
    env.watch.wait(lambda: all(controller_uid(p) is None for p in env.watch.pods.values()),
                   WAIT, "owner references removed")
    assert {n: p["metadata"]["uid"] for n, p in env.pods().items()} == uids
    assert all(is_ready(p) for p in env.pods().values())

    env.kubectl("apply", "-f", str(MANIFEST))
    new_set = env.sts()["metadata"]["uid"]
    assert new_set != old_set
    env.watch.wait(lambda: all(controller_uid(p) == new_set for p in env.watch.pods.values()),
                   WAIT, "pods adopted")
    adopted = env.pods()
    assert {n: p["metadata"]["uid"] for n, p in adopted.items()} == uids
    for pod in adopted.values():
        (ref,) = pod["metadata"]["ownerReferences"]
        assert ref == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "zk",
                       "uid": new_set, "controller": True, "blockOwnerDeletion": True}
    assert not [e for e in env.watch.since(start) if e.type == "DELETED" or e.terminating]
    env.kubectl("rollout", "status", "sts/zk", "--timeout=10s", timeout=20)
    assert get_rows(env, "sts")["zk"][1] == "3/3"
    assert re.fullmatch(r"zk-\w+", env.sts()["status"]["currentRevision"])
