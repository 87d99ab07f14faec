"""Image profiles as data: the shipped files, validation of a user's file, and ``auto``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import ConfigError
from harness.kube.apply import Manifest
from harness.zk.profile import (
    KUBERNETES_ZOOKEEPER,
    PROFILE_DIR,
    get_profile,
    image_repository,
    load_profile_file,
    profile_names,
    resolve_profile,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "harness" / "manifests" / "examples"
TUTORIAL = EXAMPLES.parent / "zookeeper.yaml"


def test_the_shipped_profiles():
    assert profile_names() == ["bitnami-zookeeper", "kubernetes-zookeeper",
                               "pravega-zookeeper", "zookeeper"]
    bitnami = get_profile("bitnami-zookeeper")
    assert bitnami.read_only_root and not bitnami.script_removable
    assert (bitnami.run_as_user, bitnami.fs_group) == (1001, 1001)
    assert bitnami.allows("mntr") and not bitnami.allows("stat")
    official = get_profile("zookeeper")
    assert official.liveness.kind == "none" and official.ready_script is None
    assert official.four_letter_words == ("srvr",)
    assert official.admin_server and official.admin_port == 8080
    assert official.reads_through_admin_server("mntr")  # not whitelisted, AdminServer on
    assert not official.reads_through_admin_server("srvr")  # the 4lw stays the default
    assert not bitnami.reads_through_admin_server("stat")  # no AdminServer: the 4lw refuses
    assert bitnami.admin_port == 8080  # the default when a file does not say
    pravega = get_profile("pravega-zookeeper")
    assert pravega.live_script == "/usr/local/bin/zookeeperLive.sh"
    assert pravega.conf_path == "/data/conf/zoo.cfg" and pravega.run_as_user == 0
    assert KUBERNETES_ZOOKEEPER.allows("cons") and KUBERNETES_ZOOKEEPER.script_removable


def test_image_repository():
    assert image_repository("k8s.gcr.io/kubernetes-zookeeper:1.0-3.4.10") == "kubernetes-zookeeper"
    assert image_repository("docker.io/library/zookeeper:3.9@sha256:ab") == "zookeeper"
    assert image_repository("localhost:5000/bitnami/zookeeper") == "bitnami/zookeeper"
    assert image_repository("pravega/zookeeper:0.2.15") == "pravega/zookeeper"


@pytest.mark.parametrize(("manifest", "profile", "container"), [
    (TUTORIAL, "kubernetes-zookeeper", "kubernetes-zookeeper"),
    (EXAMPLES / "bitnami-zookeeper.yaml", "bitnami-zookeeper", "zookeeper"),
    (EXAMPLES / "official-zookeeper.yaml", "zookeeper", "zookeeper"),
    (EXAMPLES / "pravega-zookeeper.yaml", "pravega-zookeeper", "zookeeper"),
])
def test_auto_picks_the_profile_of_each_example(manifest, profile, container):
    sts = Manifest.load(manifest).statefulset()
    found = resolve_profile("auto", sts)
    assert (found.name, found.container) == (profile, container)


def test_auto_follows_image_and_container_name():
    sts = Manifest.load(TUTORIAL).statefulset()
    sts["spec"]["template"]["spec"]["containers"][0]["name"] = "zk"
    assert resolve_profile("auto", sts).container == "zk"
    assert resolve_profile("auto", sts, image="bitnami/zookeeper:3.9").name == "bitnami-zookeeper"
    assert resolve_profile("zookeeper", sts).name == "zookeeper"  # named: no detection


def test_unknown_image_is_one_line_saying_how_to_write_a_profile():
    sts = Manifest.load(TUTORIAL).statefulset()
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = "mycorp/zk:1"
    with pytest.raises(ConfigError) as err:
        resolve_profile("auto", sts)
    text = str(err.value)
    assert "\n" not in text
    assert "no profile knows the image of statefulset zk (container kubernetes-zookeeper " \
           "(mycorp/zk:1))" in text
    assert "--zk-profile=PATH.yaml" in text and "harness/profiles/*.yaml" in text


def _write(tmp_path: Path, data: object, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _shipped(name: str) -> dict:
    return yaml.safe_load((PROFILE_DIR / f"{name}.yaml").read_text())


def test_a_profile_file_round_trips(tmp_path):
    data = _shipped("zookeeper")
    data.update(name="mycorp", images=["mycorp/zk"], container="server")
    loaded = get_profile(str(_write(tmp_path, data)))
    assert (loaded.name, loaded.container, loaded.source) == (
        "mycorp", "server", str(tmp_path / "mine.yaml"))
    assert loaded.matches_image("mycorp/zk:1")


@pytest.mark.parametrize(("change", "message"), [
    ({"zkcli": None}, "field 'zkcli' is missing"),
    ({"user": {"uid": "x", "gid": 1}}, "field 'user' must be {uid: N, gid: N}"),
    ({"probes": {"liveness": {"httpGet": 1}, "readiness": "none"}},
     "field 'probes.liveness' must be none"),
    ({"config": "magic"}, "field 'config' must be one of start-flags, env, configmap"),
    ({"read_only_root": "yes"}, "field 'read_only_root' must be true or false"),
    ({"four_letter_words": []}, "field 'four_letter_words' must be a non-empty list"),
    ({"admin_port": "8080"}, "field 'admin_port' must be a port number"),
    ({"admin_port": 0}, "field 'admin_port' must be a port number"),
])
def test_a_bad_profile_file_is_one_line_naming_the_field(tmp_path, change, message):
    data = _shipped("bitnami-zookeeper")
    for key, value in change.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_profile_file(path)
    text = str(err.value)
    assert text.startswith(f"profile {path}: {message}") and "\n" not in text
    assert "--zk-profile=PATH.yaml" in text


def test_a_profile_file_that_does_not_parse(tmp_path):
    path = _write(tmp_path, "name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"is not valid YAML at line 2") as err:
        get_profile(str(path))
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="cannot read profile"):
        get_profile(str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="is not a mapping"):
        load_profile_file(_write(tmp_path, "- a\n"))
