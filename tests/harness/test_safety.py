"""Destructive drills on a real cluster need the opt-in; the refusal says how to give it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SafetyRefusal
from harness.safety import active_context, refusal, require_destructive
from harness.settings import Settings

DRILL = "scenarios/test_drain.py::test_drain_respects_the_disruption_budget"


def kube(**cli: object) -> Settings:
    return Settings.from_sources({"cluster": "kube", "context": "prod", **cli})


def test_localkube_needs_no_opt_in() -> None:
    assert refusal(Settings(), [DRILL]) is None


def test_no_destructive_drill_selected_needs_no_opt_in() -> None:
    assert refusal(kube(), []) is None


def test_a_real_cluster_without_the_flags_is_refused_with_the_fix() -> None:
    why = refusal(kube(), [DRILL])
    assert why is not None
    assert "destructive drill refused on real cluster context 'prod'" in why
    assert "(test_drain_respects_the_disruption_budget)" in why
    assert "add --allow-destructive --confirm-context=prod" in why
    assert "-m 'not destructive'" in why


def test_the_confirmed_context_must_be_the_active_one() -> None:
    why = refusal(kube(allow_destructive=True, confirm_context="staging"), [DRILL])
    assert why is not None and "--confirm-context='staging' does not match" in why
    assert refusal(kube(allow_destructive=True, confirm_context="prod"), [DRILL]) is None


def test_the_in_drill_check_raises() -> None:
    with pytest.raises(SafetyRefusal):
        require_destructive(kube(), "prod")


def test_the_active_context_is_read_from_the_kubeconfig(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: kind-zk\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: kind-zk, context: {cluster: c, user: u}}]\n"
    )
    settings = Settings.from_sources({"cluster": "kube", "kubeconfig": str(config)})
    assert active_context(settings) == "kind-zk"
    why = refusal(settings, [DRILL, DRILL + "2", DRILL + "3", DRILL + "4"])
    assert why is not None and "4 destructive drill(s)" in why and "and 1 more" in why


def test_an_unfinished_run_is_one_line_with_who_when_what_and_the_repair() -> None:
    from harness.journal import Journal, MemoryStore, Owner
    from harness.plugin.repair import unfinished_line

    store = MemoryStore()
    dead = Journal(store, Owner("run1", "ci-7", 42))
    dead.record("cordon", "node/node-2", {"node": "node-2"})
    dead.record("template", "statefulset/zk-drills/zk", {"statefulset": "zk"})
    entries = dead.entries()
    line = unfinished_line(entries, kube(namespace="zk-drills"), "prod")
    assert "\n" not in line
    assert line.startswith("zkdrill: an unfinished run left changes in namespace zk-drills: "
                           f"run run1 (pid 42 on ci-7, since {entries[0].recorded}): "
                           "cordon node/node-2, template statefulset/zk-drills/zk; left as "
                           "they are (no destructive opt-in); repair with: pytest "
                           "--zkdrill-repair --cluster=kube --context=prod "
                           "--namespace=zk-drills --allow-destructive --confirm-context=prod")
