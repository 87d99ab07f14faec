"""Run drills in a child pytest against a localkube the test owns, as a user would.

Why a child process: the drills must fail (or be killed) the way they do for an SRE, with
their own session, plugin and exit status, while the test inspects the cluster from outside.
The child talks to the localkube as to any real cluster (``--cluster=kube``, with the
destructive opt-in), so several runs can share one localkube and one journal.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from harness.journal import JOURNAL_NAME, Entry
from harness.kube.client import Cluster, connect
from harness.kube.drain import is_cordoned
from harness.kube.lease import PREFIX, lease_name, leases_path, micro_time
from harness.kube.objects import CONFIGMAP, NAMESPACE, STATEFULSET
from harness.kube.transport import release
from harness.kube.watch import _lines
from harness.localkube_process import LocalkubeProcess
from harness.settings import DEFAULT_MANIFEST

REPO = Path(__file__).resolve().parents[2]
CONTEXT = "localkube"


@contextmanager
def localkube(nodes: int = 4) -> Iterator[LocalkubeProcess]:
    process = LocalkubeProcess(nodes=nodes).start()
    try:
        yield process
    finally:
        process.stop()


def cluster_in(kubeconfig: Path, namespace: str) -> Cluster:
    cluster = connect(kubeconfig, None, "default")
    cluster.create_namespace(namespace)
    cluster.close()
    return connect(kubeconfig, None, namespace)


def free_namespaces(kubeconfig: Path, prefix: str) -> list[str]:
    """Delete the StatefulSets of every namespace named ``prefix*`` (a killed run leaves its
    ensemble running): their pods' CPU requests would leave the next test's pods Pending."""
    admin = connect(kubeconfig, None, "default")
    freed = []
    try:
        for ns in admin.list_objects(NAMESPACE):
            name = ns["metadata"]["name"]
            if not name.startswith(prefix):
                continue
            scoped = connect(kubeconfig, None, name)
            try:
                for sts in scoped.list_objects(STATEFULSET):
                    scoped.delete(STATEFULSET, sts["metadata"]["name"], propagation="Background")
                    freed.append(f"{name}/{sts['metadata']['name']}")
            finally:
                scoped.close()
    finally:
        admin.close()
    return freed


def drill_args(kubeconfig: Path, namespace: str, report_dir: Path,
               manifest: Path | None = None, *, deploy: bool = True) -> list[str]:
    """The command line of a drill run against the test's localkube: deploying ``manifest``
    (by default the tutorial's as ``quick_start`` leaves it) unless ``deploy`` is False
    (``--use-existing``)."""
    args = [str(REPO / "scenarios"), "--cluster=kube",
            f"--kubeconfig={kubeconfig}", f"--namespace={namespace}", "--allow-destructive",
            f"--confirm-context={CONTEXT}", f"--report-dir={report_dir}"]
    if not deploy:
        return args
    if manifest is None:
        manifest = manifest_variant(report_dir.parent, "zookeeper-quick.yaml", lambda d: d)
    return [*args, f"--manifest={manifest}"]


def quick_start(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The headless Service publishes not-ready addresses, so a fresh ensemble elects its
    leader at once instead of after initLimit x tickTime (``docs/drills.md``: ~11 s per
    deploy). The drills these tests run do not depend on it: the scenarios' own session
    runs the tutorial manifest as it is."""
    for doc in docs:
        if doc.get("kind") == "Service" and (doc.get("spec") or {}).get("clusterIP") == "None":
            doc["spec"]["publishNotReadyAddresses"] = True
    return docs


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def run_child_drill(pytester: Any, monkeypatch: Any, lk: LocalkubeProcess, namespace: str,
                    marker: str, *, manifest: Path | None = None, drills: Path | None = None,
                    extra: Sequence[str] = (), timeout: float = 900.0) -> Any:
    """Run the drills marked ``marker`` (from ``drills``, default the repository's scenarios)
    in a child pytest against ``lk``; afterwards no node may be left cordoned."""
    for name, value in child_env().items():
        monkeypatch.setenv(name, value)
    cluster_in(lk.kubeconfig, namespace).close()
    args = drill_args(lk.kubeconfig, namespace, pytester.path / "reports", manifest)
    if drills is not None:
        args[0] = str(drills)
    result = pytester.runpytest_subprocess(*args, *extra, "-m", marker, timeout=timeout)
    cluster = cluster_in(lk.kubeconfig, namespace)
    try:
        assert cordoned_nodes(cluster) == [], "the failed drill left nodes cordoned"
    finally:
        cluster.close()
    return result


def manifest_variant(directory: Path, name: str,
                     change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Path:
    """The tutorial manifest, weakened by ``change`` (and ``quick_start``), written to
    ``directory/name``."""
    docs = [d for d in yaml.safe_load_all(DEFAULT_MANIFEST.read_text()) if d]
    path = directory / name
    path.write_text(yaml.safe_dump_all(quick_start(change(copy.deepcopy(docs))),
                                       sort_keys=False))
    return path


def statefulset_of(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == "StatefulSet")


def cordoned_nodes(cluster: Cluster) -> list[str]:
    return sorted(n["metadata"]["name"] for n in cluster.nodes() if is_cordoned(n))


def journal_entries(cluster: Cluster) -> list[Entry]:
    return _entries(cluster.get(CONFIGMAP, JOURNAL_NAME))


def wait_for_journal(cluster: Cluster, wanted: Callable[[list[Entry]], bool],
                     timeout: float) -> list[Entry]:
    """Watch the journal ConfigMap (no polling) until ``wanted(entries)``."""
    path = f"/api/v1/namespaces/{cluster.namespace}/configmaps"
    found = watch_until(cluster, path, JOURNAL_NAME, lambda cm: wanted(_entries(cm)), timeout)
    return _entries(found)


def watch_until(cluster: Cluster, path: str, name: str,
                wanted: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
    """List then watch one object of the collection at ``path`` until ``wanted(object)``."""
    selector = ("fieldSelector", f"metadata.name={name}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = cluster.transport.request("GET", path, query=[selector])
        for item in listed.get("items") or []:
            if wanted(item):
                return dict(item)
        window = max(1, int(min(deadline - time.monotonic(), 30)))
        response = cluster.transport.open(
            "GET", path, timeout=(10.0, window + 10.0),
            query=[selector, ("watch", True), ("timeoutSeconds", window),
                   ("resourceVersion", listed["metadata"]["resourceVersion"])])
        try:
            for line in _lines(response):
                event = json.loads(line)
                obj = event.get("object") or {}
                if event.get("type") in ("ADDED", "MODIFIED") and wanted(obj):
                    return dict(obj)
        finally:
            release(response)
    raise AssertionError(f"{path}/{name} never became what was waited for in {timeout:.0f}s")


def run_leases(cluster: Cluster) -> list[dict[str, Any]]:
    """The runs' Leases (``zkdrill-run-<run id>``) in the cluster's namespace."""
    items = cluster.transport.request("GET", leases_path(cluster.namespace)).get("items") or []
    return [i for i in items if i["metadata"]["name"].startswith(PREFIX)]


def end_run_leases(cluster: Cluster) -> list[str]:
    """What an operator does once sure a killed run is dead: delete its Lease, so a repair
    need not wait for it to expire. Returns the run ids."""
    names = [i["metadata"]["name"] for i in run_leases(cluster)]
    for name in names:
        cluster.transport.request("DELETE", leases_path(cluster.namespace, name))
    return [n.removeprefix(PREFIX) for n in names]


def hold_lease(cluster: Cluster, run_id: str, seconds: int = 600) -> None:
    """Create or renew run ``run_id``'s Lease now, as a live run does."""
    now = micro_time(datetime.now(UTC))
    name = lease_name(run_id)
    spec = {"holderIdentity": run_id, "leaseDurationSeconds": seconds, "renewTime": now}
    if any(i["metadata"]["name"] == name for i in run_leases(cluster)):
        cluster.transport.request("PATCH", leases_path(cluster.namespace, name),
                                  body={"spec": spec},
                                  content_type="application/merge-patch+json")
        return
    cluster.transport.request("POST", leases_path(cluster.namespace), body={
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name}, "spec": {**spec, "acquireTime": now}})


def _entries(cm: dict[str, Any] | None) -> list[Entry]:
    return [Entry.from_json(v) for v in ((cm or {}).get("data") or {}).values()]
