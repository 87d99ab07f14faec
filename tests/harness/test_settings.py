"""Settings: command line > ini > environment > defaults, and bad input as ConfigError."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.errors import ConfigError, SafetyRefusal
from harness.settings import DEFAULT_MANIFEST, OPTIONS, Settings, Timeouts


def test_defaults_read_like_the_tutorial():
    s = Settings.from_sources()
    assert (s.cluster, s.namespace, s.statefulset, s.zk_profile) == (
        "local",
        "default",
        "zk",
        "auto",
    )
    assert s.manifest == DEFAULT_MANIFEST and DEFAULT_MANIFEST.is_file()
    assert s.report_dir == Path("reports")
    assert s.timeouts == Timeouts()
    assert s.localkube_nodes == 4
    assert not (s.use_existing or s.keep or s.allow_destructive)
    assert set(s.origins.values()) == {"default"}


def test_priority_cli_over_ini_over_env_over_default():
    s = Settings.from_sources(
        cli={"namespace": "from-cli", "timeout_rollout": None},
        ini={"namespace": "from-ini", "timeout_rollout": "20m", "statefulset": "zk-ini"},
        env={
            "ZKDRILL_NAMESPACE": "from-env",
            "ZKDRILL_TIMEOUT_ROLLOUT": "5",
            "ZKDRILL_STATEFULSET": "zk-env",
            "ZKDRILL_KEEP": "yes",
            "HOME": "/root",
        },
    )
    assert s.namespace == "from-cli"
    assert s.timeouts.rollout == 1200.0
    assert s.statefulset == "zk-ini"
    assert s.keep is True
    assert s.cluster == "local"
    assert s.origins["namespace"] == "command line"
    assert s.origins["timeout_rollout"] == "ini"
    assert s.origins["keep"] == "environment"
    assert s.origins["cluster"] == "default"


def test_empty_values_count_as_unset():
    s = Settings.from_sources(
        cli={"namespace": None}, ini={"namespace": ""}, env={"ZKDRILL_NAMESPACE": "zk"}
    )
    assert s.namespace == "zk"


def test_cli_flags_are_booleans():
    s = Settings.from_sources(
        cli={"keep": True, "use_existing": False}, env={"ZKDRILL_USE_EXISTING": "1"}
    )
    assert s.keep is True
    assert s.use_existing is False  # False given on the command line beats the environment


@pytest.mark.parametrize(
    ("raw", "seconds"), [("300", 300.0), ("90s", 90.0), ("2.5m", 150.0), ("1h", 3600.0), (45, 45.0)]
)
def test_durations(raw, seconds):
    assert Settings.from_sources(cli={"timeout_pod_ready": raw}).timeouts.pod_ready == seconds


def test_bad_cluster_names_the_allowed_values_and_the_source():
    with pytest.raises(ConfigError) as caught:
        Settings.from_sources(env={"ZKDRILL_CLUSTER": "minikube"})
    message = str(caught.value)
    assert "'minikube'" in message
    assert "allowed values: local, kube" in message
    assert "ZKDRILL_CLUSTER" in message
    assert "\n" not in message
    assert caught.value.hint


@pytest.mark.parametrize(
    ("cli", "fragment"),
    [
        ({"namespace": "Bad_Name"}, "not a Kubernetes name"),
        ({"statefulset": "x" * 64}, "not a Kubernetes name"),
        ({"timeout_step": "soon"}, "not a duration"),
        ({"timeout_step": "0"}, "more than 0s"),
        ({"localkube_nodes": "three"}, "--localkube-nodes"),
        ({"localkube_nodes": "0"}, "whole number >= 1"),
        ({"keep": "maybe"}, "not a yes/no value"),
        ({"budget_leader_loss": "soon"}, "--budget-leader-loss: 'soon' is not a duration"),
        ({"budget_follower_loss": "-2"}, "--budget-follower-loss"),
        ({"budget_follower_loss": "0"}, "more than 0s"),
        ({"target": "Leader!"}, "use leader, follower or the name of one of the ensemble"),
    ],
)
def test_bad_values(cli, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Settings.from_sources(cli=cli)


def test_unknown_environment_variable_is_reported_with_a_suggestion():
    with pytest.raises(ConfigError, match="did you mean ZKDRILL_NAMESPACE"):
        Settings.from_sources(env={"ZKDRILL_NAMESAPCE": "zk"})


def test_destructive_opt_in_is_command_line_only():
    with pytest.raises(ConfigError, match="--allow-destructive on the command line"):
        Settings.from_sources(env={"ZKDRILL_ALLOW_DESTRUCTIVE": "1"})
    with pytest.raises(ValueError, match="unknown ini option"):
        Settings.from_sources(ini={"allow_destructive_typo": "1"})
    s = Settings.from_sources(ini={"allow_destructive": "1"})
    assert s.allow_destructive is False  # no ini twin: ignored, never armed


def test_context_without_kube_cluster_is_a_mistake():
    with pytest.raises(ConfigError, match="only used with --cluster=kube"):
        Settings.from_sources(cli={"context": "prod"})
    with pytest.raises(ConfigError, match=r"from environment.*drop ZKDRILL_KUBECONFIG"):
        Settings.from_sources(env={"ZKDRILL_KUBECONFIG": "~/.kube/prod"})
    assert (
        Settings.from_sources(
            cli={"cluster": "kube"}, env={"ZKDRILL_KUBECONFIG": "~/.kube/prod"}
        ).kubeconfig
        == Path("~/.kube/prod").expanduser()
    )


def test_check_destructive():
    Settings.from_sources().check_destructive("localkube")
    kube = Settings.from_sources(cli={"cluster": "kube", "context": "prod"})
    with pytest.raises(SafetyRefusal, match="refused on real cluster context 'prod'"):
        kube.check_destructive("prod")
    armed = Settings.from_sources(
        cli={"cluster": "kube", "allow_destructive": True, "confirm_context": "staging"}
    )
    with pytest.raises(SafetyRefusal, match="does not match the active context 'prod'"):
        armed.check_destructive("prod")
    armed.check_destructive("staging")


def test_describe_for_the_report_header():
    local = Settings.from_sources(env={"ZKDRILL_NAMESPACE": "drills"})
    lines = local.describe()
    assert lines[0] == "zkdrill cluster: local (localkube, 4 nodes)"
    assert any("statefulset drills/zk" in line for line in lines)
    assert any("rollout 900s" in line for line in lines)
    assert lines[-1] == "zkdrill set by user: namespace (environment)"
    kube = Settings.from_sources(cli={"cluster": "kube", "context": "prod"}).describe()
    assert kube[0].startswith("zkdrill cluster: kube (context prod")
    assert any("refused (needs --allow-destructive" in line for line in kube)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings.from_sources().namespace = "x"  # type: ignore[misc]


def test_option_table_is_complete_for_the_plugin():
    keys = {o.key for o in OPTIONS}
    fields = {f.name for f in dataclasses.fields(Settings)} - {"timeouts", "origins"}
    timeouts = {"timeout_" + f.name for f in dataclasses.fields(Timeouts)}
    assert keys == fields | timeouts
    assert len({o.flag for o in OPTIONS}) == len(OPTIONS)
    for opt in OPTIONS:
        assert opt.flag.startswith("--") and opt.help
        assert (opt.env is None) == opt.cli_only == (opt.ini is None)
        if opt.default is not None and opt.kind != "flag":
            assert (
                Settings.from_sources(cli={opt.key: str(opt.default)}).origins[opt.key]
                == "command line"
            )


def test_budgets_and_target():
    s = Settings.from_sources(cli={"budget_follower_loss": "1.5s", "target": "follower"})
    assert (s.budget_follower_loss, s.budget_leader_loss, s.target) == (1.5, None, "follower")
    assert Settings.from_sources(cli={"budget_leader_loss": "2m"}).budget_leader_loss == 120.0
    assert Settings.from_sources(cli={"target": "zk-1"}).target == "zk-1"
