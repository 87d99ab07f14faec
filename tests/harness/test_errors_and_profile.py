"""The error tree's messages, and the image profile registry."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from harness.errors import (
    CommandNotAllowed,
    ConfigError,
    DrillFailure,
    FourLetterWordError,
    HarnessError,
    NotServing,
    WaitTimeout,
    ZooKeeperError,
)
from harness.zk import profile as profile_module
from harness.zk.endpoint import Endpoint
from harness.zk.profile import (
    KUBERNETES_ZOOKEEPER,
    ImageProfile,
    get_profile,
    parse_start_flags,
    profile_for_image,
    profile_names,
    register_profile,
)

MANIFEST = Path(__file__).resolve().parents[2] / "harness" / "manifests" / "zookeeper.yaml"


def test_config_error_is_one_line_with_a_hint():
    err = ConfigError("invalid --cluster: 'x'", hint="use --cluster=local")
    assert str(err) == "invalid --cluster: 'x' (fix: use --cluster=local)"
    assert (err.message, err.hint) == ("invalid --cluster: 'x'", "use --cluster=local")
    assert str(ConfigError("plain")) == "plain"


def test_wait_timeout_message():
    err = WaitTimeout("zk-0 Ready", 30, "0/1 Running 1")
    assert str(err) == "timed out after 30.0s waiting for zk-0 Ready; last observed: 0/1 Running 1"
    assert isinstance(err, HarnessError)


def test_zookeeper_errors_name_the_server():
    assert str(NotServing("127.0.0.1:2181")).startswith("127.0.0.1:2181: not currently serving")
    refused = CommandNotAllowed("127.0.0.1:2181", "mntr")
    assert "'mntr' is not in the server's 4lw.commands.whitelist" in str(refused)
    assert refused.address == "127.0.0.1:2181"
    for cls in (NotServing, CommandNotAllowed, FourLetterWordError):
        assert issubclass(cls, ZooKeeperError)


def test_drill_failure_is_an_assertion():
    assert issubclass(DrillFailure, AssertionError)
    assert issubclass(DrillFailure, HarnessError)


def test_endpoint():
    assert Endpoint.parse("127.0.0.1:2181") == Endpoint("127.0.0.1", 2181)
    assert Endpoint.parse(("localhost", 1)) == ("localhost", 1)
    assert str(Endpoint("127.0.0.1", 40001)) == "127.0.0.1:40001"
    with pytest.raises(ValueError):
        Endpoint.parse("no-port")


def manifest_start_command() -> str:
    docs = list(yaml.safe_load_all(MANIFEST.read_text()))
    sts = next(d for d in docs if d["kind"] == "StatefulSet")
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == KUBERNETES_ZOOKEEPER.container
    assert KUBERNETES_ZOOKEEPER.matches_image(container["image"])
    return container["command"][-1]


def test_profile_start_flags_are_the_manifests():
    assert dict(KUBERNETES_ZOOKEEPER.start_flags) == parse_start_flags(manifest_start_command())
    assert KUBERNETES_ZOOKEEPER.start_flags["data_dir"] == KUBERNETES_ZOOKEEPER.data_dir
    assert int(KUBERNETES_ZOOKEEPER.start_flags["client_port"]) == KUBERNETES_ZOOKEEPER.client_port


def test_profile_paths_and_expected_zoo_cfg():
    p = get_profile("kubernetes-zookeeper")
    assert p.process_name == "java"
    assert p.ready_script == "/opt/zookeeper/bin/zookeeper-ready"
    assert p.ready_script_on_path == "/usr/bin/zookeeper-ready"
    assert p.myid_path == "/var/lib/zookeeper/data/myid"
    assert p.conf_path == "/opt/zookeeper/conf/zoo.cfg"
    cfg = p.expected_zoo_cfg()
    assert cfg["tickTime"] == "2000"
    assert cfg["autopurge.snapRetainCount"] == "3"
    assert "servers" not in cfg and "heap" not in cfg


def test_profile_lookup():
    assert "kubernetes-zookeeper" in profile_names()
    with pytest.raises(ConfigError, match="unknown ZooKeeper image profile 'bitnami'"):
        get_profile("bitnami")
    assert (
        profile_for_image("registry.k8s.io/kubernetes-zookeeper:1.0-3.4.10") is KUBERNETES_ZOOKEEPER
    )
    assert profile_for_image("zookeeper:3.8").name == "zookeeper"
    assert profile_for_image("docker.io/bitnami/zookeeper:3.9.3").name == "bitnami-zookeeper"
    assert profile_for_image("mycorp/zookeeper:3.9") is None


def test_register_a_second_profile(monkeypatch):
    monkeypatch.setattr(profile_module, "_PROFILES", dict(profile_module._PROFILES))
    other = ImageProfile(
        name="test-official-zookeeper",
        image_names=("mycorp/zookeeper",),
        container="zookeeper",
        process_name="java",
        ready_script="/ready",
        ready_script_on_path="/usr/local/bin/ready",
        zkcli="/apache-zookeeper/bin/zkCli.sh",
        data_dir="/data",
        conf_path="/conf/zoo.cfg",
        log_config_path="/conf/logback.xml",
    )
    register_profile(other)
    register_profile(other)  # idempotent
    assert get_profile("test-official-zookeeper") is other
    assert profile_for_image("registry.example.com:5000/mycorp/zookeeper:3.8@sha256:abc") is other
    with pytest.raises(ValueError, match="already registered"):
        register_profile(dataclasses.replace(other, data_dir="/x"))
