"""Commands run inside a running container: probes and interactive sessions."""

from __future__ import annotations

import asyncio

import pytest

from localkube.images import Image
from localkube.runtime import (
    ContainerSpec,
    ContainerStateError,
    ExecTimeout,
    run_exec,
    start_exec,
)

from .conftest import RuntimeKit, processes_in_namespaces

pytestmark = pytest.mark.slow


def test_exit_codes_stdin_env_and_identity(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        spec = ContainerSpec(
            "zk",
            zk_image,
            command=["sleep", "1000"],
            env={"GREETING": "hello"},
            working_dir="/var/lib/zookeeper",
            run_as_user=1000,
            fs_group=1000,
        )
        c = await kit.start(kit.container(kit.sandbox("zk-0"), spec))
        assert (await run_exec(c, ["sh", "-c", "exit 3"], timeout=5)).exit_code == 3
        assert (await run_exec(c, ["true"], timeout=5)).exit_code == 0
        result = await run_exec(c, ["cat"], timeout=5, stdin=b"from stdin\n")
        assert result.stdout == b"from stdin\n"
        result = await run_exec(
            c, ["sh", "-c", 'echo "$GREETING $(pwd) $(id -un) $(id -G) $PATH"'], timeout=5
        )
        assert result.stdout.decode().split() == [
            "hello",
            "/var/lib/zookeeper",
            "zookeeper",
            "1000",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        missing = await run_exec(c, ["no-such-tool"], timeout=5)
        assert missing.exit_code == 127
        assert b"executable file not found in $PATH" in missing.stderr
        killed = await run_exec(c, ["sh", "-c", "kill -TERM $$"], timeout=5)
        assert killed.exit_code == 143
        await c.stop(5)
        with pytest.raises(ContainerStateError):
            await run_exec(c, ["true"], timeout=5)

    kit.run(scenario)


def test_timeout_kills_the_whole_command_tree(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        c = await kit.start(
            kit.container(kit.sandbox("zk-0"), ContainerSpec("zk", zk_image, ["sleep", "1000"]))
        )
        with pytest.raises(ExecTimeout) as err:
            await run_exec(c, ["sh", "-c", "sleep 300 & sleep 301; echo never"], timeout=0.5)
        assert isinstance(err.value, TimeoutError)
        ps = await run_exec(c, ["ps", "-eo", "args="], timeout=5)
        assert b"sleep 30" not in ps.stdout, ps.stdout
        await c.stop(5)

    kit.run(scenario)


def test_streaming_session_with_stdin(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        c = await kit.start(
            kit.container(kit.sandbox("zk-0"), ContainerSpec("zk", zk_image, ["sleep", "1000"]))
        )
        script = "read x; echo got $x; echo err >&2; cat; exit 5"
        session = await start_exec(c, ["sh", "-c", script])
        await session.write_stdin(b"abc\n")
        assert await asyncio.wait_for(session.stdout.readline(), 5) == b"got abc\n"
        await session.write_stdin(b"rest")
        await session.close_stdin()
        assert await asyncio.wait_for(session.stdout.read(), 5) == b"rest"
        assert await session.stderr.read() == b"err\n"
        assert await session.wait() == 5
        await c.stop(5)

    kit.run(scenario)


def test_tty_session_and_resize(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        c = await kit.start(
            kit.container(kit.sandbox("zk-0"), ContainerSpec("zk", zk_image, ["sleep", "1000"]))
        )
        session = await start_exec(
            c,
            ["sh", "-c", "tty; stty size; read x; stty size; echo bye"],
            tty=True,
            width=100,
            height=40,
        )
        out = b""
        while b"40 100" not in out:
            out += await asyncio.wait_for(session.stdout.read(100), 5)
        assert b"/dev/pts/" in out
        session.resize(120, 30)
        await session.write_stdin(b"go\n")
        while b"bye" not in out:
            out += await asyncio.wait_for(session.stdout.read(100), 5)
        assert b"30 120" in out
        assert await session.wait() == 0
        session.close()
        await c.stop(5)
        assert processes_in_namespaces(kit.namespaces) == []

    kit.run(scenario)
