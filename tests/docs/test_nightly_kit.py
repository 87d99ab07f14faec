"""docs/nightly: what can be checked without kind, Docker or a network.

The kit itself (a kind cluster, a GitHub Actions workflow) cannot run here; these tests only
check that its files parse, that the cluster has the nodes the drain drill needs, that the
RBAC binding binds exactly what docs/rbac.yaml defines, and that the pytest command the
workflow runs uses only options, markers and settings the harness knows.
"""

from __future__ import annotations

import importlib
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
KIT = REPO / "docs" / "nightly"
KIND_CONFIG = KIT / "kind-config.yaml"
WORKFLOW = KIT / "zkdrill-nightly.yml"
BINDING = KIT / "rbac-binding.yaml"
RBAC = REPO / "docs" / "rbac.yaml"

# Flags the workflow may pass that are not zkdrill settings: pytest's own, and the repair
# plugin's.
KNOWN_FLAGS = {"--pyargs", "--zkdrill-repair"}
# Short pytest options that take a value (the value is not an option).
SHORT_WITH_VALUE = {"-m", "-k", "-o", "-p", "-c"}
# Stand-ins for the runner's variables, to resolve the command's values.
RUNNER_VARS = {"RUNNER_TEMP": "/home/runner/work/_temp"}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return _load(WORKFLOW)


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads a bare `on:` key as the boolean True.
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict), f"the workflow's `on:` is not a mapping: {on!r}"
    return on


def _steps(workflow: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            yield job, step


def _env(workflow: dict[str, Any], job: dict[str, Any], step: dict[str, Any]) -> dict[str, str]:
    env = dict(RUNNER_VARS)
    for scope in (workflow, job, step):
        env.update({k: str(v) for k, v in (scope.get("env") or {}).items()})
    return env


def _commands(script: str) -> Iterator[str]:
    """The shell commands of a `run:` script, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", script)
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield from (part.strip() for part in line.split("&&"))


def _substitute(command: str, env: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, f"<{name}>")

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, command)


def _pytest_commands(workflow: dict[str, Any]) -> list[tuple[list[str], dict[str, str], str]]:
    """Every `python3 -m pytest ...` the workflow runs: (argv after `pytest`, env, script)."""
    found = []
    for job, step in _steps(workflow):
        script = step.get("run") or ""
        env = _env(workflow, job, step)
        # SA_KUBECONFIG comes from an earlier step through $GITHUB_ENV.
        env.setdefault("SA_KUBECONFIG", env["RUNNER_TEMP"] + "/zkdrill-sa.kubeconfig")
        for command in _commands(script):
            argv = shlex.split(_substitute(command, env))
            if "pytest" in argv:
                found.append((argv[argv.index("pytest") + 1 :], env, script))
    return found


def _drill_command(workflow: dict[str, Any]) -> tuple[list[str], dict[str, str], str]:
    drills = [c for c in _pytest_commands(workflow) if "--zkdrill-repair" not in c[0]]
    assert len(drills) == 1, f"expected one pytest command running the drills, got {drills}"
    return drills[0]


def _long_options(argv: list[str]) -> dict[str, str | None]:
    options: dict[str, str | None] = {}
    for arg in argv:
        if arg.startswith("--"):
            name, _, value = arg.partition("=")
            options[name] = value if _ else None
    return options


def _marker_expressions(argv: list[str]) -> list[str]:
    expressions = []
    for i, arg in enumerate(argv):
        if arg == "-m" and i + 1 < len(argv):
            expressions.append(argv[i + 1])
        elif arg.startswith("-m") and not arg.startswith("--") and len(arg) > 2:
            expressions.append(arg[2:])
    return expressions


def _marker_names(expression: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", expression)) - {"and", "or", "not"}


def _known_markers() -> set[str]:
    """The markers harness registers: ``DRILL_MARKERS`` (and ``OTHER_MARKERS`` next to it),
    in ``harness.fixtures`` or wherever under ``harness/plugin*`` it has moved."""
    harness = importlib.import_module("harness")
    candidates = ["harness.fixtures", "harness.plugin"]
    for base in map(Path, harness.__path__):
        for path in sorted(base.glob("plugin*")):
            if path.suffix == ".py":
                candidates.append(f"harness.{path.stem}")
            elif path.is_dir():  # a package, possibly without __init__.py
                candidates.append(f"harness.{path.name}")
                subs = sorted(path.glob("*.py"))
                candidates += [f"harness.{path.name}.{sub.stem}" for sub in subs]
    known: set[str] = set()
    for name in dict.fromkeys(candidates):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "DRILL_MARKERS", None):
            known |= set(module.DRILL_MARKERS) | set(getattr(module, "OTHER_MARKERS", None) or {})
    if not known:
        pytest.fail(f"DRILL_MARKERS is in none of {candidates}")
    return known


# -- the kind cluster ---------------------------------------------------------------------------


def test_kind_config_has_one_control_plane_and_four_workers() -> None:
    config = _load(KIND_CONFIG)
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    roles = [node["role"] for node in config["nodes"]]
    assert roles.count("control-plane") == 1, roles
    assert roles.count("worker") == 4, roles
    assert len(roles) == 5, roles


def test_kind_nodes_run_kubernetes_1_32_by_tag() -> None:
    images = {node.get("image") for node in _load(KIND_CONFIG)["nodes"]}
    assert len(images) == 1, f"the nodes run different images: {images}"
    (image,) = images
    assert re.fullmatch(r"kindest/node:v1\.32\.\d+(@sha256:[0-9a-f]{64})?", image or ""), image
    assert "digest" in KIND_CONFIG.read_text(), "the comment on pinning the digest is gone"


def test_every_worker_mounts_the_shared_volume_directory() -> None:
    """The workflow points local-path at this path; a worker without it cannot host a volume."""
    script = "\n".join(step.get("run") or "" for _, step in _steps(_load(WORKFLOW)))
    for node in _load(KIND_CONFIG)["nodes"]:
        if node["role"] != "worker":
            continue
        mounts = {m["containerPath"]: m["hostPath"] for m in node.get("extraMounts", [])}
        assert mounts.get("/var/local-path-shared") == "/tmp/zkdrill-volumes", node
    assert "sharedFileSystemPath" in script and "/var/local-path-shared" in script
    assert "mkdir -p /tmp/zkdrill-volumes" in script


# -- the workflow -------------------------------------------------------------------------------


def test_workflow_runs_nightly_and_on_demand(workflow: dict[str, Any]) -> None:
    on = _triggers(workflow)
    assert on.get("schedule"), "no schedule trigger"
    assert all("cron" in entry for entry in on["schedule"])
    assert "workflow_dispatch" in on


def test_workflow_creates_the_cluster_from_the_kind_config(workflow: dict[str, Any]) -> None:
    runs = [cmd for _, step in _steps(workflow) for cmd in _commands(step.get("run") or "")]
    create = [c for c in runs if c.startswith("kind create cluster")]
    assert len(create) == 1, create
    argv = shlex.split(create[0])
    config = argv[argv.index("--config") + 1]
    assert (REPO / config).resolve() == KIND_CONFIG
    assert any(c.startswith("kind delete cluster") for c in runs)


def test_workflow_sets_up_python_3_11_and_installs_the_checkout(workflow: dict[str, Any]) -> None:
    uses = {step.get("uses", "").split("@")[0]: step for _, step in _steps(workflow)}
    assert "actions/checkout" in uses
    assert str(uses["actions/setup-python"]["with"]["python-version"]) == "3.11"
    runs = [cmd for _, step in _steps(workflow) for cmd in _commands(step.get("run") or "")]
    assert any(re.fullmatch(r"python3? -m pip install \.", c) for c in runs), runs


def test_reports_are_uploaded_whatever_happened(workflow: dict[str, Any]) -> None:
    argv, env, _ = _drill_command(workflow)
    report_dir = _long_options(argv)["--report-dir"]
    uploads = [
        step
        for _, step in _steps(workflow)
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert len(uploads) == 1, uploads
    upload = uploads[0]
    assert str(upload.get("if", "")).replace("${{", "").replace("}}", "").strip() == "always()"
    path = upload["with"]["path"].replace("${{ runner.temp }}", env["RUNNER_TEMP"])
    assert path.rstrip("/") == report_dir


def test_drills_run_from_the_installed_package_outside_the_checkout(
    workflow: dict[str, Any],
) -> None:
    argv, _, script = _drill_command(workflow)
    assert argv[argv.index("--pyargs") + 1] == "scenarios"
    before = script[: script.index("pytest")]
    assert re.search(r"\bcd \"?\$RUNNER_TEMP", before), "the drills must not run in the checkout"


def test_every_option_of_the_pytest_commands_exists(workflow: dict[str, Any]) -> None:
    from harness.settings import OPTIONS

    flags = {opt.flag for opt in OPTIONS}
    commands = _pytest_commands(workflow)
    assert len(commands) >= 1
    for argv, _, _ in commands:
        unknown = set(_long_options(argv)) - flags - KNOWN_FLAGS
        assert not unknown, f"not zkdrill or pytest options: {sorted(unknown)} in {argv}"


def test_markers_selected_by_the_kit_exist() -> None:
    """`-m` in the workflow (none today) and in the README's suggestions."""
    workflow = _load(WORKFLOW)
    expressions = [
        e for argv, _, _ in _pytest_commands(workflow) for e in _marker_expressions(argv)
    ]
    readme = (KIT / "README.md").read_text()
    expressions += re.findall(r"-m '([^']+)'", readme)
    known = _known_markers()
    for expression in expressions:
        unknown = _marker_names(expression) - known
        assert not unknown, f"-m {expression!r}: unknown markers {sorted(unknown)}"


def test_drill_command_resolves_to_destructive_drills_on_the_confirmed_context(
    workflow: dict[str, Any],
) -> None:
    from harness.settings import OPTIONS, Settings

    argv, _, _ = _drill_command(workflow)
    given = _long_options(argv)
    cli = {
        opt.key: (True if opt.kind == "flag" else given[opt.flag])
        for opt in OPTIONS
        if opt.flag in given
    }
    settings = Settings.from_sources(cli, {}, {})
    assert settings.cluster == "kube"
    assert settings.kubeconfig is not None and settings.context
    settings.check_destructive(settings.context)  # raises unless it would be allowed
    roles = [d for d in _load_all(RBAC) if d["kind"] == "Role"]
    assert {r["metadata"]["namespace"] for r in roles} == {settings.namespace}


def test_workflow_sets_no_zkdrill_variables(workflow: dict[str, Any]) -> None:
    """The harness reads ZKDRILL_* as its settings and stops on a name it does not know."""
    scopes = [workflow, *workflow["jobs"].values(), *(s for _, s in _steps(workflow))]
    names = {name for scope in scopes for name in (scope.get("env") or {})}
    assert not {n for n in names if n.upper().startswith("ZKDRILL_")}, names


def test_workflow_runs_as_the_service_account(workflow: dict[str, Any]) -> None:
    runs = [cmd for _, step in _steps(workflow) for cmd in _commands(step.get("run") or "")]
    applied = {shlex.split(c)[-1] for c in runs if c.startswith("kubectl apply -f")}
    assert applied == {"docs/rbac.yaml", "docs/nightly/rbac-binding.yaml"}
    account = next(d for d in _load_all(BINDING) if d["kind"] == "ServiceAccount")
    tokens = [c for c in runs if "kubectl" in c and "create token" in c]
    assert len(tokens) == 1, tokens
    assert f"create token {account['metadata']['name']}" in tokens[0]
    argv, _, _ = _drill_command(workflow)
    assert _long_options(argv)["--kubeconfig"].endswith("zkdrill-sa.kubeconfig")


# -- RBAC ---------------------------------------------------------------------------------------


def test_binding_binds_exactly_the_roles_of_docs_rbac() -> None:
    rbac = _load_all(RBAC)
    roles = {
        (d["metadata"]["name"], d["metadata"]["namespace"]) for d in rbac if d["kind"] == "Role"
    }
    cluster_roles = {d["metadata"]["name"] for d in rbac if d["kind"] == "ClusterRole"}
    assert roles and cluster_roles

    binding = _load_all(BINDING)
    kinds = sorted(d["kind"] for d in binding)
    assert kinds == ["ClusterRoleBinding", "RoleBinding", "ServiceAccount"], kinds
    account = next(d for d in binding if d["kind"] == "ServiceAccount")["metadata"]
    bound_roles, bound_cluster_roles = set(), set()
    for doc in binding:
        if doc["kind"] == "ServiceAccount":
            continue
        ref = doc["roleRef"]
        assert ref["apiGroup"] == "rbac.authorization.k8s.io"
        assert doc["subjects"] == [
            {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
        ]
        if doc["kind"] == "RoleBinding":
            assert ref["kind"] == "Role"
            bound_roles.add((ref["name"], doc["metadata"]["namespace"]))
        else:
            assert ref["kind"] == "ClusterRole"
            bound_cluster_roles.add(ref["name"])
    assert bound_roles == roles
    assert bound_cluster_roles == cluster_roles
    assert {ns for _, ns in roles} == {account["namespace"]}
