"""The drills pass with exactly the permissions of ``docs/rbac.yaml``, and no fewer.

One localkube for the module, used as an external cluster (``--cluster=kube``) by child
pytest runs whose kubeconfig holds only a ServiceAccount token (``kubectl create token``) of
the account ``docs/nightly/rbac-binding.yaml`` binds to ``docs/rbac.yaml``'s roles:

- ``-m "sanity or process or drain"`` passes (connect, deploy, the journal, the run's Lease,
  exec, logs, port-forward, cordon, the DaemonSet lookup, evictions);
- with ``patch`` on nodes taken out of the ClusterRole, ``-m drain`` (on the ensemble the
  first run kept) fails with one line naming the verb and the resource, and stops there.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.localkube_process import LocalkubeProcess
from tests.harness.drillrun import REPO, child_env, cluster_in, cordoned_nodes, localkube

pytestmark = pytest.mark.slow
NAMESPACE = "zk-drills"  # the namespace docs/rbac.yaml and the binding name
CONTEXT = "zkdrill-sa"
PYTEST = ["python3", "-m", "pytest"]


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalkubeProcess]:
    with localkube() as process:
        yield process


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def account(shared: LocalkubeProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig for ServiceAccount zk-drills/zkdrill, bound to docs/rbac.yaml only."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    admin = shared.kubeconfig
    cluster_in(admin, NAMESPACE).close()
    kubectl(admin, "apply", "-f", str(REPO / "docs" / "rbac.yaml"))
    kubectl(admin, "apply", "-f", str(REPO / "docs" / "nightly" / "rbac-binding.yaml"))
    token = kubectl(admin, "create", "token", "zkdrill", "-n", NAMESPACE,
                    "--duration=2h").strip()
    config = yaml.safe_load(admin.read_text())
    current = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    server = next(c for c in config["clusters"] if c["name"] == current["context"]["cluster"])
    path = tmp_path_factory.mktemp("sa") / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "clusters": [server],
        "users": [{"name": "zkdrill", "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": server["name"], "user": "zkdrill",
                                                    "namespace": NAMESPACE}}],
        "current-context": CONTEXT}))
    path.chmod(0o600)
    who = kubectl(path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
    assert who == f"system:serviceaccount:{NAMESPACE}:zkdrill"
    return path


def run(kubeconfig: Path, report_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PYTEST, str(REPO / "scenarios"), "--cluster=kube", f"--kubeconfig={kubeconfig}",
         f"--namespace={NAMESPACE}", "--allow-destructive", f"--confirm-context={CONTEXT}",
         f"--report-dir={report_dir}", "-p", "no:cacheprovider", *args],
        cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=1200)


def test_the_drills_pass_with_exactly_docs_rbac_yaml(account: Path, tmp_path: Path) -> None:
    done = run(account, tmp_path, "-m", "sanity or process or drain", "--keep")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "passed" in done.stdout and "forbidden" not in done.stdout


def test_a_missing_permission_is_one_line_naming_verb_and_resource(
        shared: LocalkubeProcess, account: Path, tmp_path: Path) -> None:
    admin = shared.kubeconfig
    fewer = kubectl(admin, "get", "clusterrole", "zkdrill-nodes", "-o", "yaml")
    role = yaml.safe_load(fewer)
    for rule in role["rules"]:
        if rule["resources"] == ["nodes"]:
            rule["verbs"] = [v for v in rule["verbs"] if v != "patch"]
    kubectl(admin, "apply", "-f", "-", stdin=yaml.safe_dump(role))
    try:
        done = run(account, tmp_path, "-m", "drain", "--use-existing")
    finally:
        kubectl(admin, "apply", "-f", str(REPO / "docs" / "rbac.yaml"))
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-6000:]
    refused = [line for line in output.splitlines()
               if "zkdrill: the cluster refused patch nodes:" in line]
    assert refused, output[-6000:]
    assert 'cannot patch resource "nodes"' in refused[0]
    assert "Traceback" not in output and "Forbidden(" not in output
    assert cordoned_nodes(cluster_in(admin, NAMESPACE)) == []


def test_use_existing_with_a_missing_statefulset_is_one_line(account: Path,
                                                              tmp_path: Path) -> None:
    done = run(account, tmp_path, "-m", "sanity", "--use-existing", "--statefulset=nope")
    output = done.stdout + done.stderr
    assert done.returncode == 4, output[-4000:]
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert errors == [f"ERROR: zkdrill: --use-existing: statefulset {NAMESPACE}/nope not "
                      f"found on context '{CONTEXT}' (fix: check --namespace/--statefulset, "
                      "or drop --use-existing to deploy)"], output[-4000:]
    assert "Traceback" not in output
