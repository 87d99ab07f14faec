"""Ensuring consistent configuration, configuring logging, configuring a non-privileged user.

Tutorial sections: "Ensuring consistent configuration", "Configuring logging",
"Configuring a non-privileged user". What this drill checks:

- the StatefulSet's start command carries the tutorial's flags (``--servers=3`` ...
  ``--log_level=INFO``), and ``--servers`` matches the replica count (the tutorial's image;
  not applicable to images configured by environment or ConfigMap);
- every server's zoo.cfg holds the values those flags ask for (tickTime, initLimit, ...);
  for the other images, what their environment/ConfigMap must produce: every server of the
  StatefulSet (with its dynamicConfigFile), dataDir of the image profile and clientPort;
- log4j sends everything to the console (where the profile names a log config), and
  ``kubectl logs zk-0 --tail 20`` shows ZooKeeper log lines
  (``2016-12-06 19:34:16,236 [myid:1] - INFO  [...] - ...``);
- the ZooKeeper process runs as the pod's ``runAsUser`` (else the profile's: 1000 for the
  tutorial), and the data directory belongs to its ``fsGroup`` (without one: is writable
  by the server's user or the profile's group).
"""

from __future__ import annotations

import re

import pytest

from harness.drill import Drill, expected_server_lines, parse_start_flags

pytestmark = pytest.mark.config

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d,\d{3} \[myid:\d*\] - (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b"
)


def test_start_command_carries_the_tutorials_flags(drill: Drill) -> None:
    if drill.profile.config_source != "start-flags":
        pytest.skip(f"not applicable: image profile {drill.profile.name} is configured by "
                    f"{drill.profile.config_source}, not start-zookeeper's flags")
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
    profile, target = drill.profile, drill.target
    if profile.config_source == "start-flags":
        expected = profile.expected_zoo_cfg(target.start_flags)
        source = "the start flags"
    else:
        expected = {"dataDir": profile.data_dir}
        source = f"the image's {profile.config_source} (profile {profile.name})"
    servers = expected_server_lines(target.statefulset, target.replicas, target.service,
                                    target.namespace, drill.settings.cluster_domain,
                                    profile.server_port, profile.election_port)
    for pod in drill.names:
        with drill.step(f"kubectl exec {pod} -- cat {profile.conf_path}"):
            config = drill.zoo_cfg(pod)
            wrong = [
                f"{k}={config.get(k)} (expected {v})"
                for k, v in expected.items()
                if config.get(k) != v
            ]
            if profile.config_source != "start-flags":
                ports = {str(s.client_port) for s in config.servers if s.client_port}
                port = config.get("clientPort") or (ports.pop() if len(ports) == 1 else None)
                if port != str(profile.client_port):
                    wrong.append(f"clientPort={port} (expected {profile.client_port})")
                if config.server_lines() != servers:
                    wrong.append(f"servers {', '.join(config.server_lines()) or 'none'} "
                                 f"(expected {', '.join(servers)})")
            assert not wrong, f"{pod}'s zoo.cfg does not follow {source}: " + ", ".join(wrong)


def test_logs_go_to_the_console(drill: Drill) -> None:
    first = drill.names[0]
    path = drill.profile.log_config_path
    if path is None:
        drill.note("log config", True, f"profile {drill.profile.name} names none to read")
    else:
        _console_appender(drill, first, path)
    with drill.step(f"kubectl logs {first} --tail 20"):
        lines = drill.logs(first, tail=20).splitlines()
        assert 0 < len(lines) <= 20, f"kubectl logs --tail 20 returned {len(lines)} lines"
        matching = [line for line in lines if LOG_LINE.match(line)]
        drill.note("ZooKeeper log lines", bool(matching), matching[-1] if matching else "none")
        if not matching:
            container = drill.statefulset().container(drill.target.container).raw
            levels = [f"{e.get('name')}={e.get('value')}" for e in container.get("env") or []
                      if "LOG_LEVEL" in str(e.get("name"))]
            levels += [f"--{k}={v}" for k, v in drill.target.start_flags.items()
                       if k == "log_level"]
            cause = (f"finding: the log level is set to {', '.join(levels)}: "
                     if levels else "")
            raise AssertionError(f"{cause}no ZooKeeper log line in the last 20 lines:\n"
                                 + "\n".join(lines))


def _console_appender(drill: Drill, first: str, path: str) -> None:
    with drill.step(f"kubectl exec {first} -- cat {path}"):
        result = drill.exec(first, ["cat", path])
        assert result.ok, result.describe()
        properties = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        assert properties.get("log4j.appender.CONSOLE") == "org.apache.log4j.ConsoleAppender", (
            f"log4j has no console appender in {path}"
        )
        root = properties.get("zookeeper.root.logger", "")
        assert "CONSOLE" in root, f"the root logger does not log to the console: {root!r}"


def test_runs_as_a_non_privileged_user(drill: Drill) -> None:
    profile = drill.profile
    for pod in drill.names:
        user = drill.security(pod)[0]
        expected = profile.run_as_user if user is None else user
        why = "securityContext.runAsUser" if user is not None else f"profile {profile.name}"
        with drill.step(f"kubectl exec {pod} -- ps -eo uid,pid,comm"):
            result = drill.exec(pod, ["ps", "-eo", "uid=,pid=,comm="])
            assert result.ok, result.describe()
            rows = [line.split(None, 2) for line in result.stdout.splitlines() if line.strip()]
            servers = [r for r in rows if len(r) == 3 and r[2] == profile.process_name]
            assert servers, f"no {profile.process_name} process in {pod}: {result.stdout!r}"
            uids = {int(r[0]) for r in servers}
            assert uids != {0}, (
                f"finding: {pod}'s {profile.process_name} runs as root (uid 0; {why}): a "
                "non-privileged user limits what a compromised server can do; set "
                "securityContext.runAsUser")
            assert uids == {expected}, (
                f"{pod}'s {profile.process_name} runs as uid {sorted(uids)}, "
                f"expected {expected} ({why})"
            )


def test_data_dir_belongs_to_the_fs_group(drill: Drill) -> None:
    """With ``fsGroup`` the volume is that group's (the kubelet sees to it); without one, the
    image must have made the directory writable for the user its server runs as (the
    official image's entry point chowns it as root before dropping to ``zookeeper``)."""
    profile = drill.profile
    for pod in drill.names:
        user, group = drill.security(pod)
        with drill.step(f"kubectl exec {pod} -- ls -ldn {profile.data_dir}"):
            result = drill.exec(pod, ["ls", "-ldn", profile.data_dir])
            assert result.ok, result.describe()
            fields = result.stdout.split()
            assert len(fields) >= 4, result.describe()
            mode, owner, owning_group = fields[0], fields[2], fields[3]
            if group is not None:
                assert owning_group == str(group), (
                    f"{profile.data_dir} in {pod} has group {owning_group}, expected {group} "
                    f"(securityContext.fsGroup): {result.stdout.strip()}")
                continue
            uid = profile.run_as_user if user is None else user
            writable = (owner == str(uid) and mode[2] == "w") or (
                owning_group == str(profile.fs_group) and mode[5] == "w")
            drill.note("no fsGroup", writable,
                       f"{result.stdout.strip()}: writable by uid {uid} or gid {profile.fs_group}")
            assert writable, (
                f"{profile.data_dir} in {pod} is not writable by the server's user (uid {uid}, "
                f"gid {profile.fs_group}) and the pod sets no fsGroup: {result.stdout.strip()}")
