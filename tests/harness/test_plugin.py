"""The pytest plugin, run through pytester: options, header, markers, one-line failures.

Each run is a separate ``pytest -p harness.plugin`` process in a scratch directory, so the
options, ini file and environment are exactly what a user would have. None of these starts
a cluster: bad input must be refused before anything starts.
"""

from __future__ import annotations

import os
import socket
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

SHOW_SETTINGS = """
def test_show(settings):
    print(f"NS={settings.namespace} FROM={settings.origins['namespace']}")
    print(f"STEP={settings.timeouts.step:g} KEEP={settings.keep} CLUSTER={settings.cluster}")
"""
NEEDS_CLUSTER = "def test_drill(cluster):\n    pass\n"


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No stray ZKDRILL_* or KUBECONFIG; harness importable even when not pip-installed."""
    for name in list(os.environ):
        if name.startswith("ZKDRILL_") or name == "KUBECONFIG":
            monkeypatch.delenv(name)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    # Only the plugins a drill run needs (hypothesis alone takes 0.4 s to import per child).
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "harness.plugin", "-p", "pytest_timeout",
                                         "-p", "no:cacheprovider", *args)


def one_error_line(result: pytest.RunResult) -> str:
    """The run ended with exactly one ``ERROR: zkdrill: ...`` line and no traceback."""
    output = result.stdout.lines + result.stderr.lines
    assert not any("Traceback" in line for line in output), "\n".join(output)
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, "\n".join(output)
    assert result.ret == 4
    return errors[0]


def settings_line(result: pytest.RunResult, key: str) -> str:
    """The printed ``KEY=...`` line (it may follow the test file's name on its line)."""
    line = next(line for line in result.stdout.lines if key in line)
    return line[line.index(key) :]


def test_default_settings_reach_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SHOW_SETTINGS)
    result = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    assert settings_line(result, "NS=") == "NS=default FROM=default"
    assert settings_line(result, "STEP=") == "STEP=600 KEEP=False CLUSTER=local"


def test_environment_is_the_fallback(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(SHOW_SETTINGS)
    monkeypatch.setenv("ZKDRILL_NAMESPACE", "from-env")
    monkeypatch.setenv("ZKDRILL_TIMEOUT_STEP", "2m")
    monkeypatch.setenv("ZKDRILL_KEEP", "yes")
    result = run(pytester, "-s")
    assert settings_line(result, "NS=") == "NS=from-env FROM=environment"
    assert settings_line(result, "STEP=") == "STEP=120 KEEP=True CLUSTER=local"


def test_ini_beats_environment_and_command_line_beats_both(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(SHOW_SETTINGS)
    pytester.makeini("[pytest]\nzkdrill_namespace = from-ini\nzkdrill_timeout_step = 90\n")
    monkeypatch.setenv("ZKDRILL_NAMESPACE", "from-env")
    result = run(pytester, "-s")
    assert settings_line(result, "NS=") == "NS=from-ini FROM=ini"
    assert settings_line(result, "STEP=").startswith("STEP=90 ")
    result = run(pytester, "-s", "--namespace=from-cli", "--timeout-step=30s")
    assert settings_line(result, "NS=") == "NS=from-cli FROM=command line"
    assert settings_line(result, "STEP=").startswith("STEP=30 ")


def test_settings_are_printed_in_the_report_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = run(pytester, "--namespace=drills")
    result.stdout.fnmatch_lines(
        [
            "zkdrill cluster: local (localkube, 4 nodes)",
            "zkdrill target: statefulset drills/zk (or the manifest's only StatefulSet) "
            "(deployed from */zookeeper.yaml)*",
            "zkdrill timeouts: rollout 900s, pod_ready 300s, step 600s*",
            "zkdrill set by user: namespace (command line)",
        ]
    )


def test_unknown_cluster_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    line = one_error_line(run(pytester, "--cluster=gke"))
    assert line.startswith("ERROR: zkdrill: invalid --cluster")
    assert "'gke'; allowed values: local, kube" in line


def test_unknown_environment_variable_is_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    monkeypatch.setenv("ZKDRILL_NAMESPCE", "x")
    line = one_error_line(run(pytester))
    assert "unknown environment variable ZKDRILL_NAMESPCE" in line
    assert "did you mean ZKDRILL_NAMESPACE?" in line


def test_unreadable_kubeconfig_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NEEDS_CLUSTER)
    missing = pytester.path / "nowhere" / "kubeconfig"
    line = one_error_line(run(pytester, "--cluster=kube", f"--kubeconfig={missing}"))
    assert line.startswith(f"ERROR: zkdrill: cannot read kubeconfig {missing}: No such file")


def kubeconfig(path: Path, server: str, contexts: tuple[str, ...] = ("a", "b")) -> Path:
    entries = "".join(
        f"- name: {c}\n  context: {{cluster: c1, user: u1, namespace: default}}\n" for c in contexts
    )
    path.write_text(
        textwrap.dedent(f"""\
        apiVersion: v1
        kind: Config
        clusters:
        - name: c1
          cluster: {{server: "{server}"}}
        users:
        - name: u1
          user: {{token: abc}}
        contexts:
        """)
        + entries
        + f"current-context: {contexts[0]}\n"
    )
    return path


def test_missing_context_lists_the_available_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NEEDS_CLUSTER)
    config = kubeconfig(pytester.path / "kc", "https://127.0.0.1:1")
    line = one_error_line(run(pytester, "--cluster=kube", f"--kubeconfig={config}", "--context=c"))
    assert f"context 'c' is not in kubeconfig {config}; available: a, b" in line


def test_unreachable_api_names_its_url(pytester: pytest.Pytester) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pytester.makepyfile(NEEDS_CLUSTER)
    config = kubeconfig(pytester.path / "kc", f"http://127.0.0.1:{port}")
    line = one_error_line(run(pytester, "--cluster=kube", f"--kubeconfig={config}"))
    assert f"cannot reach the Kubernetes API at http://127.0.0.1:{port} (context 'a')" in line
    assert "connection refused" in line


def test_malformed_manifest_names_file_and_document(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NEEDS_CLUSTER)
    manifest = pytester.path / "bad.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: zk-hs}\n---\n"
        "kind: StatefulSet\nmetadata: [unclosed\n"
    )
    line = one_error_line(run(pytester, f"--manifest={manifest}"))
    assert f"manifest {manifest}: document 2 is not valid YAML at line" in line


def test_manifest_without_the_statefulset_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NEEDS_CLUSTER)
    manifest = pytester.path / "svc.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: zk-hs}\n")
    line = one_error_line(run(pytester, f"--manifest={manifest}"))
    assert f"manifest {manifest} has no StatefulSet named 'zk'" in line


def test_localkube_preflight_failure_is_quoted(pytester: pytest.Pytester) -> None:
    """The plugin runs localkube by its command line; a stand-in plays its preflight."""
    fake = pytester.path / "fake_localkube.py"
    fake.write_text(
        "import sys\n"
        'print("localkube: ZooKeeper is not installed (/usr/share/java/zookeeper.jar is '
        "missing): run 'apt-get install -y zookeeper'\", file=sys.stderr)\n"
        "sys.exit(2)\n"
    )
    pytester.makeconftest(
        "import sys\nimport harness.localkube_process as lp\n"
        f"lp.default_command = lambda: [sys.executable, {str(fake)!r}]\n"
    )
    pytester.makepyfile(NEEDS_CLUSTER)
    line = one_error_line(run(pytester))
    assert line == (
        "ERROR: zkdrill: localkube could not start (exit 2): localkube: ZooKeeper is not "
        "installed (/usr/share/java/zookeeper.jar is missing): run 'apt-get install -y "
        "zookeeper'"
    )


def test_collect_only_starts_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NEEDS_CLUSTER)
    result = run(pytester, "--collect-only", "--cluster=kube", "--kubeconfig=/nowhere")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*test_drill*"])


def test_markers_are_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    names = [
        "ensemble",
        "sanity",
        "durability",
        "config",
        "process",
        "liveness",
        "readiness",
        "update",
        "spread",
        "drain",
        "destructive",
        "slow",
    ]
    body = "".join(f"@pytest.mark.{n}\ndef test_{n}():\n    pass\n\n" for n in names)
    pytester.makepyfile("import pytest\n\n" + body)
    result = run(pytester, "--strict-markers")
    result.assert_outcomes(passed=len(names))
    listed = run(pytester, "--markers")
    for name in names:
        listed.stdout.fnmatch_lines([f"@pytest.mark.{name}: *"])


def test_drills_get_a_timeout_backstop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n\n"
        "@pytest.mark.drain\ndef test_drill(request):\n"
        "    print('TIMEOUT', request.node.get_closest_marker('timeout').args[0])\n\n"
        "@pytest.mark.drain\n@pytest.mark.timeout(5)\ndef test_own(request):\n"
        "    print('OWN', request.node.get_closest_marker('timeout').args[0])\n"
    )
    result = run(pytester, "-s", "--timeout-rollout=100", "--timeout-step=10")
    result.stdout.fnmatch_lines(["*TIMEOUT 320.0*", "*OWN 5*"])


def test_junit_xml_goes_to_the_report_dir_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    run(pytester, "--report-dir=out")
    assert len(list((pytester.path / "out").glob("zkdrill-*.xml"))) == 1
    run(pytester, "--report-dir=out2", "--junitxml=mine.xml")
    assert (pytester.path / "mine.xml").is_file()
    assert not (pytester.path / "out2").exists()


def test_pytest_addopts_cannot_arm_destructive_drills(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    kubeconfig = pytester.path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("PYTEST_ADDOPTS", "--allow-destructive --confirm-context=prod")
    armed_by_env = run(pytester, "--co", "--cluster=kube", f"--kubeconfig={kubeconfig}")
    armed_by_env.stdout.fnmatch_lines(["zkdrill destructive drills: refused*"])
    monkeypatch.delenv("PYTEST_ADDOPTS")
    typed = run(pytester, "--co", "--cluster=kube", f"--kubeconfig={kubeconfig}",
                "--allow-destructive", "--confirm-context=prod")
    typed.stdout.fnmatch_lines(["zkdrill destructive drills: allowed on context prod only"])


def test_a_report_dir_given_with_a_space_keeps_what_the_harness_relies_on(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """``--report-dir /elsewhere`` makes pytest take /elsewhere as rootdir (no ini file):
    unknown markers still fail and JUnit still carries per-test properties."""
    pytester.makepyfile(
        test_props="def test_props(record_property):\n    record_property('step.01', 'ok')\n",
        test_marker="import pytest\n\n@pytest.mark.not_a_registered_marker\n"
                    "def test_unknown():\n    pass\n")
    elsewhere = tmp_path / "reports"
    elsewhere.mkdir()
    result = run(pytester, "--report-dir", str(elsewhere), "test_marker.py")
    result.stdout.fnmatch_lines(["*'not_a_registered_marker' not found in `markers`*"])
    props = tmp_path / "props"
    props.mkdir()
    ok = run(pytester, "--report-dir", str(props), "test_props.py", "-p", "no:warnings")
    assert ok.ret == 0, ok.stdout.str()
    xml = next(props.glob("*.xml")).read_text()
    assert '<property name="step.01" value="ok"' in xml


def test_zkdrill_repair_on_a_real_cluster_needs_the_opt_in(pytester: pytest.Pytester) -> None:
    config = kubeconfig(pytester.path / "kc", "https://127.0.0.1:1")
    line = one_error_line(run(pytester, "--cluster=kube", f"--kubeconfig={config}",
                              "--zkdrill-repair"))
    assert line == ("ERROR: zkdrill: --zkdrill-repair refused: destructive drill refused on "
                    "real cluster context 'a'; add --allow-destructive --confirm-context=a")


def test_unknown_image_under_auto_is_one_line(pytester: pytest.Pytester) -> None:
    """Before anything starts: the manifest's image matches no profile."""
    pytester.makepyfile(NEEDS_CLUSTER)
    manifest = pytester.path / "mine.yaml"
    text = (REPO / "harness" / "manifests" / "zookeeper.yaml").read_text()
    manifest.write_text(text.replace("k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10",
                                     "mycorp/zookeeper:1"))
    line = one_error_line(run(pytester, f"--manifest={manifest}"))
    assert "no profile knows the image of statefulset zk" in line
    assert "--zk-profile=PATH.yaml" in line


def test_bad_profile_file_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NEEDS_CLUSTER)
    profile = pytester.path / "mine.yaml"
    profile.write_text("name: mine\n")
    line = one_error_line(run(pytester, f"--zk-profile={profile}"))
    assert f"profile {profile}: field 'images' is missing" in line


def test_the_only_statefulset_of_a_manifest_is_the_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "def test_show(pytestconfig):\n"
        "    from harness.plugin.session import get_session\n"
        "    s = get_session(pytestconfig)\n"
        "    s.manifest()\n"
        "    print('PICKED=' + s.settings.statefulset + ' ' + s.profile.name)\n")
    manifest = REPO / "harness" / "manifests" / "examples" / "bitnami-zookeeper.yaml"
    result = run(pytester, "-s", f"--manifest={manifest}")
    assert result.ret == 0, result.stdout.str()
    assert settings_line(result, "PICKED=") == "PICKED=zookeeper bitnami-zookeeper"
