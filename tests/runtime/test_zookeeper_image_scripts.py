"""Configuration generation of the ZooKeeper image recipes, by running their scripts on the
host with bash (no container, no Java): fast checks of the env-to-zoo.cfg mapping.

Checks: the official entrypoint writes zoo.cfg and myid from ZOO_* once (an existing file
wins; the 4lw whitelist only when set); Bitnami's zoo.cfg generation (ZOO_SERVERS with
`::id`, whitelist, admin server off, heap in java.env), its validation, and the chart's
setup.sh id from the ordinal; Pravega's `zu add` keeps only server lines (ZooKeeper
refuses a dynamic file with a version line).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[2] / "localkube" / "images" / "files"
ENTRYPOINT = FILES / "zookeeper" / "docker-entrypoint.sh"
BITNAMI = FILES / "bitnami-zookeeper" / "scripts"
ZU = FILES / "pravega-zookeeper" / "bin" / "zu"


def bash(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script, "test", *args], capture_output=True,
                          text=True, env={"PATH": os.environ["PATH"], **env}, timeout=30)


def official_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    for sub in ("conf", "data", "datalog", "logs"):
        (tmp_path / sub).mkdir(exist_ok=True)
    return {"ZOO_CONF_DIR": str(tmp_path / "conf"), "ZOO_DATA_DIR": str(tmp_path / "data"),
            "ZOO_DATA_LOG_DIR": str(tmp_path / "datalog"), "ZOO_LOG_DIR": str(tmp_path / "logs"),
            "ZOO_TICK_TIME": "2000", "ZOO_INIT_LIMIT": "5", "ZOO_SYNC_LIMIT": "2",
            "ZOO_AUTOPURGE_PURGEINTERVAL": "0", "ZOO_AUTOPURGE_SNAPRETAINCOUNT": "3",
            "ZOO_MAX_CLIENT_CNXNS": "60", "ZOO_STANDALONE_ENABLED": "true",
            "ZOO_ADMINSERVER_ENABLED": "true", **extra}


def test_official_entrypoint_writes_zoo_cfg_and_myid(tmp_path: Path) -> None:
    servers = "server.1=zk-0.hs:2888:3888;2181 server.2=zk-1.hs:2888:3888;2181"
    env = official_env(tmp_path, ZOO_MY_ID="2", ZOO_SERVERS=servers)
    result = bash(f'exec {ENTRYPOINT} "$@"', env, "echo", "started")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\n"
    assert (tmp_path / "conf" / "zoo.cfg").read_text().splitlines() == [
        f"dataDir={tmp_path}/data", f"dataLogDir={tmp_path}/datalog", "tickTime=2000",
        "initLimit=5", "syncLimit=2", "autopurge.snapRetainCount=3",
        "autopurge.purgeInterval=0", "maxClientCnxns=60", "standaloneEnabled=true",
        "admin.enableServer=true", "server.1=zk-0.hs:2888:3888;2181",
        "server.2=zk-1.hs:2888:3888;2181"]
    assert (tmp_path / "data" / "myid").read_text() == "2\n"

    env.update(ZOO_MY_ID="3", ZOO_4LW_COMMANDS_WHITELIST="srvr,ruok")
    assert bash(f'exec {ENTRYPOINT} "$@"', env, "true").returncode == 0
    assert "4lw" not in (tmp_path / "conf" / "zoo.cfg").read_text()  # kept as it was
    assert (tmp_path / "data" / "myid").read_text() == "2\n"


def test_official_entrypoint_defaults_to_a_standalone_server(tmp_path: Path) -> None:
    env = official_env(tmp_path, ZOO_4LW_COMMANDS_WHITELIST="srvr, mntr")
    assert bash(f'exec {ENTRYPOINT} "$@"', env, "true").returncode == 0
    cfg = (tmp_path / "conf" / "zoo.cfg").read_text().splitlines()
    assert cfg[-2:] == ["server.1=localhost:2888:3888;2181", "4lw.commands.whitelist=srvr, mntr"]
    assert (tmp_path / "data" / "myid").read_text() == "1\n"


BITNAMI_GENERATE = f"""
set -e
. {BITNAMI}/libzookeeper.sh
. {BITNAMI}/zookeeper-env.sh
ZOO_CONF_DIR="$1/conf"; ZOO_CONF_FILE="$1/conf/zoo.cfg"; ZOO_DATA_DIR="$1/data"
cp {FILES}/zookeeper-dist/conf/zoo_sample.cfg {FILES}/zookeeper-dist/conf/log4j.properties "$1/conf"
zookeeper_validate
zookeeper_initialize
"""


def bitnami_chart_env() -> dict[str, str]:
    servers = " ".join(f"zk-{i}.zk-headless.default.svc.cluster.local:2888:3888::{i + 1}"
                       for i in range(3))
    return {"ZOO_SERVERS": servers + " ", "ZOO_SERVER_ID": "2", "ALLOW_ANONYMOUS_LOGIN": "yes",
            "ZOO_4LW_COMMANDS_WHITELIST": "srvr, mntr, ruok", "ZOO_LOG_LEVEL": "ERROR",
            "ZOO_AUTOPURGE_INTERVAL": "1", "ZOO_HEAP_SIZE": "1024", "ZOO_DATA_LOG_DIR": ""}


def bitnami_config(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "conf" / "zoo.cfg").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_bitnami_generates_zoo_cfg_from_the_chart_env(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    result = bash(BITNAMI_GENERATE, bitnami_chart_env(), str(tmp_path))
    assert result.returncode == 0, result.stderr
    cfg = bitnami_config(tmp_path)
    assert cfg["server.1"] == "zk-0.zk-headless.default.svc.cluster.local:2888:3888;2181"
    assert cfg["server.3"] == "zk-2.zk-headless.default.svc.cluster.local:2888:3888;2181"
    assert cfg["4lw.commands.whitelist"] == "srvr, mntr, ruok"
    assert cfg["admin.enableServer"] == "false"
    assert cfg["dataDir"] == f"{tmp_path}/data"
    assert cfg["autopurge.purgeInterval"] == "1"
    assert cfg["quorumListenOnAllIPs"] == "false"
    assert "dataLogDir" not in cfg
    assert (tmp_path / "data" / "myid").read_text() == "2\n"
    java_env = (tmp_path / "conf" / "java.env").read_text()
    assert "-Xmx1024m -Xms1024m" in java_env and "electionPortBindRetry=0" in java_env
    log4j = (tmp_path / "conf" / "log4j.properties").read_text()
    assert "zookeeper.console.threshold=ERROR" in log4j


def test_bitnami_keeps_an_injected_config_and_persisted_data(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "myid").write_text("7\n")
    script = BITNAMI_GENERATE.replace("zookeeper_validate", 'echo "tickTime=1" > "$1/conf/zoo.cfg"')
    result = bash(script, bitnami_chart_env(), str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "User injected custom configuration detected!" in result.stderr
    assert (tmp_path / "conf" / "zoo.cfg").read_text() == "tickTime=1\n"
    assert (tmp_path / "data" / "myid").read_text() == "7\n"


@pytest.mark.parametrize(("env", "message"), [
    ({"ALLOW_ANONYMOUS_LOGIN": "no"}, "Set the environment variable ALLOW_ANONYMOUS_LOGIN=yes"),
    ({"ZOO_SERVERS": "a:2888 b:2888"}, "should follow the next syntax: host:port:port."),
    ({"ZOO_PEER_TYPE": "voter"}, "should be one of [observer/participant]"),
])
def test_bitnami_validation_errors(tmp_path: Path, env: dict[str, str], message: str) -> None:
    (tmp_path / "conf").mkdir()
    result = bash(BITNAMI_GENERATE, {**bitnami_chart_env(), **env}, str(tmp_path))
    assert result.returncode != 0
    assert message in result.stderr


def test_pravega_zu_add_writes_only_server_lines(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "zkCli.sh"
    fake.write_text("#!/bin/sh\nprintf 'Connecting to x\\nCommitted new configuration:\\n"
                    "server.1=a:2888:3888:participant;0.0.0.0:2181\\n"
                    "server.2=b:2888:3888:observer;0.0.0.0:2181\\nversion=100000002\\n'\n")
    fake.chmod(0o755)
    out = tmp_path / "zoo.cfg.dynamic"
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run([str(ZU), "add", "zk-client:2181", "2", "b:2888:3888:observer;2181",
                             str(out)], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines() == ["server.1=a:2888:3888:participant;0.0.0.0:2181",
                                            "server.2=b:2888:3888:observer;0.0.0.0:2181"]
