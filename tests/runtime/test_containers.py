"""Containers as real process trees: identity, file system, users, lifecycle, logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from localkube.images import Image
from localkube.runtime import (
    ContainerCreateError,
    ContainerSpec,
    LogOptions,
    VolumeMount,
    find_log,
    follow_log,
    read_log,
    run_exec,
)

from .conftest import RuntimeKit, eventually, processes_in_namespaces, wait_sync

pytestmark = pytest.mark.slow

SLEEPER = ["sleep", "1000"]


async def out(container, *argv: str) -> str:  # type: ignore[no-untyped-def]
    result = await run_exec(container, list(argv), timeout=10)
    assert result.exit_code == 0, (argv, result)
    return result.stdout.decode()


def test_identity_hosts_and_pid_namespace(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        peer = kit.allocator.allocate()
        sandbox = kit.sandbox(
            "zk-0",
            subdomain="zk-hs",
            entries=[(peer, ["zk-1.zk-hs.default.svc.cluster.local"])],
        )
        c = await kit.start(kit.container(sandbox, ContainerSpec("zk", zk_image, command=SLEEPER)))
        assert await out(c, "hostname") == "zk-0\n"
        assert await out(c, "hostname", "-f") == "zk-0.zk-hs.default.svc.cluster.local\n"
        assert await out(c, "hostname", "-d") == "zk-hs.default.svc.cluster.local\n"
        hosts = await out(c, "cat", "/etc/hosts")
        assert f"{sandbox.ip}\tzk-0.zk-hs.default.svc.cluster.local\tzk-0\n" in hosts
        assert (await out(c, "getent", "hosts", "zk-1.zk-hs")).split()[0] == peer
        # The record list changes while the container runs: the bind mount follows.
        sandbox.update_hosts([(peer, ["zk-2.zk-hs.default.svc.cluster.local"])])
        assert (await out(c, "getent", "hosts", "zk-2.zk-hs")).split()[0] == peer
        assert "nameserver 127.0.0.1" in await out(c, "cat", "/etc/resolv.conf")
        # Own PID namespace: PID 1 is the container's init, the command its child.
        ps = await out(c, "ps", "-eo", "pid=,ppid=,args=")
        rows = [line.split(None, 2) for line in ps.splitlines()]
        assert rows[0][:2] == ["1", "0"]
        assert any(r[2] == "sleep 1000" and r[1] == "1" for r in rows)
        assert not any("pytest" in r[2] for r in rows)
        # Host paths outside the container's mounts are invisible.
        result = await run_exec(c, ["ls", str(kit.root)], timeout=5)
        assert result.exit_code != 0
        assert await c.stop(5) == 143
        kit.allocator.release(peer)

    kit.run(scenario)


def test_run_as_user_fs_group_and_volume_ownership(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        data = kit.volume("datadir")
        (data / "old").write_text("kept")
        spec = ContainerSpec(
            "zk",
            zk_image,
            command=SLEEPER,
            run_as_user=1000,
            fs_group=1000,
            supplemental_groups=[4242],
            volume_mounts=[
                VolumeMount(data, "/var/lib/zookeeper"),
                VolumeMount(kit.volume("config"), "/etc/zk-config", read_only=True),
            ],
        )
        c = await kit.start(kit.container(kit.sandbox("zk-0"), spec))
        assert await out(c, "id", "-u") == "1000\n"
        assert set((await out(c, "id", "-G")).split()) == {"1000", "4242"}

        async def sleeper_owner() -> str:
            ps = await run_exec(c, ["ps", "-o", "user:12=", "-C", "sleep"], timeout=5)
            return ps.stdout.decode().strip()

        assert await eventually(sleeper_owner, "the command to run") == "zookeeper"
        await out(c, "mkdir", "/var/lib/zookeeper/data")
        listing = await out(c, "ls", "-ld", "/var/lib/zookeeper/data")
        assert listing.startswith("drwxr-sr-x") and " zookeeper zookeeper " in listing
        assert (data.stat().st_gid, data.stat().st_mode & 0o2070) == (1000, 0o2070)
        assert (data / "old").stat().st_gid == 1000
        assert (data / "data").stat().st_uid == 1000
        result = await run_exec(c, ["touch", "/etc/zk-config/x"], timeout=5)
        assert result.exit_code == 1 and b"Read-only file system" in result.stderr
        await c.stop(5)

    kit.run(scenario)


def test_writes_stay_in_the_container_instance(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        sandbox = kit.sandbox("zk-0")
        spec = ContainerSpec("zk", zk_image, command=SLEEPER)
        first = await kit.start(kit.container(sandbox, spec))
        other = await kit.start(kit.container(kit.sandbox("zk-1"), spec))
        probe = ["sh", "-c", "zookeeper-ready 2181"]
        for path in ("/usr/bin/zookeeper-ready", "/usr/bin/nc", "/etc/passwd"):
            await out(first, "rm", path)
        assert (await run_exec(first, probe, timeout=5)).exit_code == 127
        assert (await run_exec(other, probe, timeout=5)).exit_code == 1  # exists, no server
        await out(other, "test", "-e", "/usr/bin/zookeeper-ready")
        assert Path("/usr/bin/nc").exists() and Path("/etc/passwd").exists()
        assert (zk_image.layer / "usr/bin/zookeeper-ready").is_symlink()
        # Removing the script itself also breaks the probe (the /usr/bin link dangles).
        await out(other, "rm", "/opt/zookeeper/bin/zookeeper-ready")
        assert (await run_exec(other, probe, timeout=5)).exit_code == 127
        await first.stop(1)
        await other.stop(1)
        # A restart is a new instance: the image's files are back.
        again = await kit.start(kit.container(sandbox, spec, instance=1))
        await out(again, "test", "-e", "/usr/bin/zookeeper-ready")
        await out(again, "test", "-e", "/usr/bin/nc")
        await again.stop(1)

    kit.run(scenario)


def test_missing_command_exits_127_with_a_message(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        spec = ContainerSpec("zk", zk_image, command=["no-such-command", "x"])
        c = await kit.start(kit.container(kit.sandbox("zk-0"), spec))
        assert await c.wait() == 127
        assert c.exit_message == 'exec: "no-such-command": executable file not found in $PATH'
        assert c.reason == "ContainerCannotRun"

    kit.run(scenario)


def test_setup_failure_is_a_create_error(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        spec = ContainerSpec(
            "zk",
            zk_image,
            command=SLEEPER,
            volume_mounts=[VolumeMount(kit.root / "missing", "/data")],
        )
        container = kit.container(kit.sandbox("zk-0"), spec)
        with pytest.raises(ContainerCreateError, match="does not exist"):
            await container.start()

    kit.run(scenario)


@pytest.mark.parametrize(
    ("command", "grace", "expected"),
    [
        (["sleep", "1000"], 10, 143),  # SIGTERM reaches the command
        (["sh", "-c", "trap '' TERM; touch /tmp/up; while :; do sleep 0.05; done"], 0.3, 137),
    ],
)
def test_stop_and_exit_codes(
    kit: RuntimeKit, zk_image: Image, command: list[str], grace: float, expected: int
) -> None:
    async def scenario() -> None:
        spec = ContainerSpec("c", zk_image, command)
        c = await kit.start(kit.container(kit.sandbox("c-0"), spec))
        pid = c.pid
        if "/tmp/up" in command[-1]:  # SIGTERM is ignored only once the trap is set

            async def trapped() -> bool:
                return (await run_exec(c, ["test", "-e", "/tmp/up"], timeout=5)).exit_code == 0

            await eventually(trapped, "the command to ignore SIGTERM")
        assert await c.stop(grace) == expected
        assert not Path(f"/proc/{pid}").exists()
        assert processes_in_namespaces(kit.namespaces) == []

    kit.run(scenario)


def test_exit_codes_of_the_command(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        done = ContainerSpec("c", zk_image, command=["sh", "-c", "exit 3"])
        assert await (await kit.start(kit.container(kit.sandbox("c-0"), done))).wait() == 3
        # Like `kubectl exec zk-0 -- pkill java`: sh passes on its child's signal death.
        spec = ContainerSpec("c", zk_image, command=["sh", "-c", "sleep 1000"])
        c = await kit.start(kit.container(kit.sandbox("c-1"), spec))
        await out(c, "pkill", "sleep")
        assert await c.wait() == 143
        assert c.reason == "Error"

    kit.run(scenario)


def test_logs_tail_timestamps_previous_and_follow(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        sandbox = kit.sandbox("c-0")
        script = "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2"
        spec = ContainerSpec("c", zk_image, ["sh", "-c", script])
        first = await kit.start(kit.container(sandbox, spec))
        assert await first.wait() == 0
        assert read_log(first.log_path, LogOptions(tail_lines=2)) == b"line 5\noops\n"
        stamped = read_log(first.log_path, LogOptions(tail_lines=1, timestamps=True))
        assert stamped.endswith(b"Z oops\n") and stamped[:4].isdigit()

        follow = "echo start; sleep 0.3; echo done"
        spec = ContainerSpec("c", zk_image, ["sh", "-c", follow])
        second = await kit.start(kit.container(sandbox, spec, instance=1))
        chunks = [
            chunk async for chunk in follow_log(second.log_path, LogOptions(), second.log_finished)
        ]
        assert b"".join(chunks) == b"start\ndone\n"
        logs = sandbox.log_path("c", 0).parent
        assert find_log(logs) == second.log_path
        assert read_log(find_log(logs, previous=True)).startswith(b"line 1\n")

    kit.run(scenario)


def test_containers_die_with_localkube(kit: RuntimeKit, zk_image: Image, tmp_path: Path) -> None:
    """SIGKILL of the process that started a container takes the container down."""
    repo = Path(__file__).resolve().parents[2]
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from localkube.images import pull_image
        from localkube.runtime import Container, ContainerSpec, PodSandbox, ensure_native

        async def main():
            image = pull_image("kubernetes-zookeeper", Path({str(kit.cache)!r}))
            sandbox = PodSandbox(Path({str(tmp_path / "orphan")!r}), ip="IP",
                                 name="orphan")
            sandbox.create()
            c = Container(ContainerSpec("c", image, command=["sleep", "1000"]), sandbox,
                          tools=ensure_native(Path({str(kit.cache)!r})))
            await c.start()
            print(c.pid, flush=True)
            await asyncio.sleep(1000)

        asyncio.run(main())
        """
    )
    ip = kit.allocator.allocate()
    script = script.replace("IP", ip)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        assert proc.stdout is not None
        pid = int(proc.stdout.readline())
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        wait_sync(lambda: not processes_in_namespaces({namespace}), "the orphaned container to die")
    finally:
        proc.kill()
        proc.wait()
        kit.allocator.release(ip)
