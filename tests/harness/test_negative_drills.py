"""Negative drills: the drills must fail, naming the cause, against a broken ensemble.

Each test deploys a deliberately broken variant of the tutorial's manifest on a fresh
localkube and runs one drill through pytester, exactly as a user would
(``pytest scenarios/... --manifest=broken.yaml``). A drill that passed here would be a drill
that cannot catch the fault it exists for. Slow: each starts localkube and ZooKeeper. Where
localkube cannot run (not root, ZooKeeper not installed) they are skipped, except in CI
(``CI`` set), where that must fail loudly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.settings import DEFAULT_MANIFEST

pytest_plugins = ("pytester",)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]


def variant(directory: Path, name: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """The tutorial manifest with ``change`` applied to its StatefulSet."""
    docs = [d for d in yaml.safe_load_all(DEFAULT_MANIFEST.read_text()) if d]
    change(next(d for d in docs if d["kind"] == "StatefulSet"))
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def data_on_empty_dir(sts: dict[str, Any]) -> None:
    """The data volume is an emptyDir: it lives and dies with each pod."""
    sts["spec"].pop("volumeClaimTemplates")
    sts["spec"]["template"]["spec"]["volumes"] = [{"name": "datadir", "emptyDir": {}}]


def four_servers(sts: dict[str, Any]) -> None:
    """start-zookeeper is told the ensemble has 4 servers; the StatefulSet runs 3."""
    container = sts["spec"]["template"]["spec"]["containers"][0]
    container["command"] = [c.replace("--servers=3", "--servers=4") for c in container["command"]]


def run_drill(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    drill: str,
    manifest: Path,
    *args: str,
) -> pytest.RunResult:
    for name in list(os.environ):
        if name.startswith("ZKDRILL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = pytester.runpytest_subprocess(
        str(REPO / "scenarios" / drill),
        f"--manifest={manifest}",
        f"--report-dir={pytester.path / 'reports'}",
        "--timeout-rollout=240",
        "-p",
        "no:cacheprovider",
        *args,
    )
    text = result.stdout.str() + result.stderr.str()
    if "localkube could not start" in text:
        if os.environ.get("CI"):
            pytest.fail(f"localkube must run in CI:\n{text}")
        pytest.skip(next(line for line in result.stderr.lines if "localkube" in line))
    return result


def test_durability_fails_when_the_data_is_on_an_empty_dir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = variant(pytester.path, "emptydir", data_on_empty_dir)
    result = run_drill(pytester, monkeypatch, "test_durability.py", manifest)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1, result.stdout.str()
    assert outcomes.get("passed", 0) == 0
    text = result.stdout.str()
    assert "the data did not survive deleting the StatefulSet" in text
    assert "emptyDir volume 'datadir', not a PersistentVolumeClaim" in text
    assert len(list((pytester.path / "reports").glob("zkdrill-*.html"))) == 1


def test_ensemble_fails_when_the_servers_flag_does_not_match(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = variant(pytester.path, "four-servers", four_servers)
    result = run_drill(pytester, monkeypatch, "test_ensemble.py", manifest, "-k", "zoo_cfg")
    assert result.parseoutcomes().get("failed") == 1, result.stdout.str()
    text = result.stdout.str()
    assert "zk-0's zoo.cfg lists 4 servers" in text
    assert "the start command has --servers=4" in text
