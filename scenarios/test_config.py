"""Ensuring consistent configuration, configuring logging, configuring a non-privileged user.

Tutorial sections: "Ensuring consistent configuration", "Configuring logging",
"Configuring a non-privileged user". What this drill checks:

- the StatefulSet's start command carries the tutorial's flags (``--servers=3`` ...
  ``--log_level=INFO``), and ``--servers`` matches the replica count;
- every server's zoo.cfg holds the values those flags ask for (tickTime, initLimit, ...);
- log4j sends everything to the console, and ``kubectl logs zk-0 --tail 20`` shows
  ZooKeeper log lines (``2016-12-06 19:34:16,236 [myid:1] - INFO  [...] - ...``);
- the ZooKeeper process runs as uid 1000, not root (``ps``);
- the data directory belongs to group 1000 (``fsGroup``), so the server can write it.
"""

from __future__ import annotations

import re

import pytest

from harness.drill import Drill, parse_start_flags, parse_zoo_cfg

pytestmark = pytest.mark.config

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d,\d{3} \[myid:\d*\] - (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b"
)


def test_start_command_carries_the_tutorials_flags(drill: Drill) -> None:
    with drill.step(f"kubectl get sts {drill.target.statefulset} -o yaml: the start command"):
        sts = drill.statefulset()
        flags = parse_start_flags(sts.container(drill.target.container).command_line)
        wanted = dict(drill.profile.start_flags)
        wrong = [
            f"--{k}={flags.get(k, '(missing)')} (tutorial: {v})"
            for k, v in wanted.items()
            if flags.get(k) != v
        ]
        assert not wrong, "the start command differs from the tutorial's: " + ", ".join(wrong)
        assert flags.get("servers") == str(sts.replicas), (
            f"--servers={flags.get('servers')} but the StatefulSet has {sts.replicas} replicas"
        )


def test_zoo_cfg_matches_the_flags(drill: Drill) -> None:
    expected = drill.profile.expected_zoo_cfg(drill.target.start_flags)
    for pod in drill.names:
        with drill.step(f"kubectl exec {pod} -- cat {drill.profile.conf_path}"):
            result = drill.exec(pod, ["cat", drill.profile.conf_path])
            assert result.ok, result.describe()
            config = parse_zoo_cfg(result.stdout)
            wrong = [
                f"{k}={config.get(k)} (flag asks {v})"
                for k, v in expected.items()
                if config.get(k) != v
            ]
            assert not wrong, f"{pod}'s zoo.cfg does not follow the start flags: " + ", ".join(
                wrong
            )


def test_logs_go_to_the_console(drill: Drill) -> None:
    first = drill.names[0]
    path = drill.profile.log_config_path
    with drill.step(f"kubectl exec {first} -- cat {path}"):
        result = drill.exec(first, ["cat", path])
        assert result.ok, result.describe()
        properties = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        assert properties.get("log4j.appender.CONSOLE") == "org.apache.log4j.ConsoleAppender", (
            f"log4j has no console appender in {path}"
        )
        root = properties.get("zookeeper.root.logger", "")
        assert "CONSOLE" in root, f"the root logger does not log to the console: {root!r}"
    with drill.step(f"kubectl logs {first} --tail 20"):
        lines = drill.logs(first, tail=20).splitlines()
        assert 0 < len(lines) <= 20, f"kubectl logs --tail 20 returned {len(lines)} lines"
        matching = [line for line in lines if LOG_LINE.match(line)]
        drill.note("ZooKeeper log lines", bool(matching), matching[-1] if matching else "none")
        assert matching, "no ZooKeeper log line in the last 20 lines:\n" + "\n".join(lines)


def test_runs_as_a_non_privileged_user(drill: Drill) -> None:
    profile = drill.profile
    for pod in drill.names:
        with drill.step(f"kubectl exec {pod} -- ps -eo uid,pid,comm"):
            result = drill.exec(pod, ["ps", "-eo", "uid=,pid=,comm="])
            assert result.ok, result.describe()
            rows = [line.split(None, 2) for line in result.stdout.splitlines() if line.strip()]
            servers = [r for r in rows if len(r) == 3 and r[2] == profile.process_name]
            assert servers, f"no {profile.process_name} process in {pod}: {result.stdout!r}"
            uids = {int(r[0]) for r in servers}
            assert uids == {profile.run_as_user}, (
                f"{pod}'s {profile.process_name} runs as uid {sorted(uids)}, "
                f"expected {profile.run_as_user} (securityContext.runAsUser)"
            )


def test_data_dir_belongs_to_the_fs_group(drill: Drill) -> None:
    profile = drill.profile
    for pod in drill.names:
        with drill.step(f"kubectl exec {pod} -- ls -ldn {profile.data_dir}"):
            result = drill.exec(pod, ["ls", "-ldn", profile.data_dir])
            assert result.ok, result.describe()
            fields = result.stdout.split()
            assert len(fields) >= 4, result.describe()
            assert fields[3] == str(profile.fs_group), (
                f"{profile.data_dir} in {pod} has group {fields[3]}, expected "
                f"{profile.fs_group} (securityContext.fsGroup): {result.stdout.strip()}"
            )
