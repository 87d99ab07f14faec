"""The real kubectl against localkube: create/get/apply/patch/scale/delete and watch, with the
server-side Table columns `kubectl get` prints."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.localkube.conftest import REPO

pytestmark = pytest.mark.slow

MANIFEST = REPO / "harness" / "manifests" / "zookeeper.yaml"

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: demo}}
spec:
  schedulerName: none
  containers:
  - name: c
    image: busybox
"""


def header(out: str) -> list[str]:
    return out.splitlines()[0].split()


def test_get_nodes_shows_server_columns(kubectl) -> None:
    out = kubectl("get", "nodes").stdout
    assert header(out) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["node-1", "node-2", "node-3", "node-4"]
    assert all(r[1] == "Ready" and r[4] == "v1.32.0" for r in rows)
    wide = kubectl("get", "nodes", "-o", "wide").stdout
    assert header(wide)[5:8] == ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE"]


def test_create_get_pods_wide_and_delete(kubectl, namespace) -> None:
    out = kubectl("-n", namespace, "create", "-f", "-", input=POD.format(name="demo")).stdout
    assert out.strip() == "pod/demo created"
    got = kubectl("-n", namespace, "get", "pods").stdout
    assert header(got) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert got.splitlines()[1].split()[:4] == ["demo", "0/1", "Pending", "0"]
    wide = kubectl("-n", namespace, "get", "pods", "-o", "wide").stdout
    assert header(wide)[5:] == ["IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
    labels = kubectl("-n", namespace, "get", "pods", "--show-labels").stdout
    assert "app=demo" in labels
    as_json = json.loads(kubectl("-n", namespace, "get", "pod", "demo", "-o", "json").stdout)
    assert as_json["spec"]["containers"][0]["image"] == "busybox"
    # the pod has no node, so it goes away at once and kubectl's wait ends quickly
    assert kubectl("-n", namespace, "delete", "pod", "demo").stdout.strip() == 'pod "demo" deleted'
    empty = kubectl("-n", namespace, "get", "pods")
    assert empty.stdout == "" and f"No resources found in {namespace} namespace." in empty.stderr


def test_not_found_is_reported_like_a_real_server(kubectl, namespace) -> None:
    res = kubectl("-n", namespace, "get", "sts", "nope", check=False)
    assert res.returncode == 1
    assert res.stderr.strip() == ('Error from server (NotFound): statefulsets.apps "nope" '
                                  "not found")


def test_apply_the_tutorial_manifest_twice(kubectl, namespace) -> None:
    first = kubectl("-n", namespace, "apply", "-f", str(MANIFEST)).stdout.splitlines()
    assert first == ["service/zk-hs created", "service/zk-cs created",
                     "poddisruptionbudget.policy/zk-pdb created", "statefulset.apps/zk created"]
    second = kubectl("-n", namespace, "apply", "-f", str(MANIFEST)).stdout.splitlines()
    # As on a real 1.32 cluster: the PDB's selector is a `patchStrategy: replace` field, which
    # client-side apply always re-sends, and the StatefulSet's manifest differs from what the
    # server stores (cpu "0.5" is stored as 500m, claim templates get defaults), so those two
    # say "configured" while nothing actually changes.
    assert second == ["service/zk-hs unchanged", "service/zk-cs unchanged",
                      "poddisruptionbudget.policy/zk-pdb configured",
                      "statefulset.apps/zk configured"]
    sts = json.loads(kubectl("-n", namespace, "get", "sts", "zk", "-o", "json").stdout)
    assert sts["metadata"]["generation"] == 1
    assert sts["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == (
        "500m")
    pdb = kubectl("-n", namespace, "get", "pdb").stdout
    assert header(pdb) == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED",
                           "DISRUPTIONS", "AGE"]
    assert pdb.splitlines()[1].split()[:3] == ["zk-pdb", "N/A", "1"]


def test_patch_scale_and_delete_a_statefulset(kubectl, namespace) -> None:
    kubectl("-n", namespace, "apply", "-f", str(MANIFEST))
    out = kubectl("-n", namespace, "patch", "sts", "zk", "--type=json", "-p",
                  '[{"op":"replace","path":"/spec/template/spec/containers/0/resources/requests'
                  '/cpu","value":"0.3"}]').stdout
    assert out.strip() == "statefulset.apps/zk patched"
    cpu = kubectl("-n", namespace, "get", "sts", "zk", "-o",
                  "jsonpath={.spec.template.spec.containers[0].resources.requests.cpu}").stdout
    assert cpu == "300m"
    smp = kubectl("-n", namespace, "patch", "sts", "zk", "-p",
                  '{"spec":{"template":{"metadata":{"annotations":{"a":"b"}}}}}').stdout
    assert smp.strip() == "statefulset.apps/zk patched"
    merge = kubectl("-n", namespace, "patch", "sts", "zk", "--type=merge", "-p",
                    '{"metadata":{"labels":{"x":"y"}}}').stdout
    assert merge.strip() == "statefulset.apps/zk patched"
    assert kubectl("-n", namespace, "scale", "sts", "zk", "--replicas=5").stdout.strip() == (
        "statefulset.apps/zk scaled")
    replicas = kubectl("-n", namespace, "get", "sts", "zk", "-o", "jsonpath={.spec.replicas}")
    assert replicas.stdout == "5"
    wide = kubectl("-n", namespace, "get", "sts", "-o", "wide").stdout
    assert header(wide) == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]
    out = kubectl("-n", namespace, "delete", "sts", "zk", "--wait=false").stdout
    assert out.strip() == 'statefulset.apps "zk" deleted'


def test_get_watch_prints_changes(control_plane, kubectl, namespace) -> None:
    kubectl("-n", namespace, "create", "configmap", "watched", "--from-literal=a=1")
    proc = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(control_plane.kubeconfig), "-n", namespace, "get",
         "configmap", "watched", "-w", "--output-watch-events"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        assert first[:2] == ["EVENT", "NAME"]
        added = proc.stdout.readline().split()
        assert added[:2] == ["ADDED", "watched"]
        kubectl("-n", namespace, "label", "configmap", "watched", "x=y")
        assert proc.stdout.readline().split()[:2] == ["MODIFIED", "watched"]
        kubectl("-n", namespace, "delete", "configmap", "watched")
        assert proc.stdout.readline().split()[:2] == ["DELETED", "watched"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_kubectl_up_to_date_with_server_time(kubectl, namespace) -> None:
    """AGE comes from the server's Table: a fresh object is seconds old."""
    kubectl("-n", namespace, "create", "configmap", "fresh")
    start = time.monotonic()
    row = kubectl("-n", namespace, "get", "configmap", "fresh").stdout.splitlines()[1].split()
    assert row[0] == "fresh" and row[-1].endswith("s")
    assert int(row[-1][:-1]) <= int(time.monotonic() - start) + 5


def test_create_commands_send_protobuf_and_work(kubectl, namespace) -> None:
    """`kubectl create configmap|namespace` POST protobuf bodies (typed clients prefer it)."""
    out = kubectl("-n", namespace, "create", "configmap", "pb", "--from-literal=a=1",
                  "--from-literal=b=two").stdout
    assert out.strip() == "configmap/pb created"
    cm = json.loads(kubectl("-n", namespace, "get", "cm", "pb", "-o", "json").stdout)
    assert cm["data"] == {"a": "1", "b": "two"}
    assert "generateName" not in cm["metadata"]  # empty protobuf strings are not fields
    ns = f"{namespace}-x"
    assert kubectl("create", "namespace", ns).stdout.strip() == f"namespace/{ns} created"


def test_drain_evicts_through_the_eviction_subresource(kubectl, namespace) -> None:
    """drain's typed client POSTs each Eviction as protobuf; an unowned pod needs --force."""
    pod = POD.format(name="on-node").replace("schedulerName: none", "nodeName: node-4")
    kubectl("-n", namespace, "create", "-f", "-", input=pod)
    try:
        res = kubectl("drain", "node-4", "--force", "--grace-period=0", "--ignore-daemonsets",
                      "--pod-selector=app=demo", "--timeout=30s")
        assert "node/node-4 cordoned" in res.stdout
        assert f"evicting pod {namespace}/on-node" in res.stdout
        assert "pod/on-node evicted" in res.stdout and "node/node-4 drained" in res.stdout
        assert f"deleting Pods that declare no controller: {namespace}/on-node" in res.stderr
        nodes = kubectl("get", "node", "node-4").stdout
        assert "Ready,SchedulingDisabled" in nodes
    finally:
        kubectl("uncordon", "node-4")
