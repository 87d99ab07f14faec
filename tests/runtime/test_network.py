"""Per-pod loopback networking: each pod behaves as if it had its own network namespace."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import pytest

from localkube.images import Image
from localkube.runtime import Container, ContainerSpec, run_exec

from .conftest import RuntimeKit, eventually

pytestmark = pytest.mark.slow

# Replies "<hostname> <peer address>" to every connection on port 9000.
SERVER = """
import socket, sys
family = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
if family == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[2], 9000))
s.listen()
name = socket.gethostname()
while True:
    conn, peer = s.accept()
    conn.sendall(f"{name} {peer[0].removeprefix('::ffff:')}\\n".encode())
    conn.close()
"""


async def ask(container: Container, host: str) -> str:
    result = await run_exec(container, ["nc", host, "9000"], timeout=5)
    return result.stdout.decode().strip()


def host_ask(ip: str, port: int = 9000) -> str:
    with socket.create_connection((ip, port), timeout=5) as conn:
        return conn.recv(100).decode().strip()


def test_pods_bind_the_same_port_on_their_own_address(kit: RuntimeKit, zk_image: Image) -> None:
    async def scenario() -> None:
        binds = {"pod-a": ("6", "::"), "pod-b": ("4", "0.0.0.0"), "pod-c": ("4", "127.0.0.1")}
        pods = {}
        for name, (family, address) in binds.items():
            command = ["/usr/bin/python3", "-c", SERVER, family, address]
            spec = ContainerSpec("srv", zk_image, command)
            sandbox = kit.sandbox(name)
            pods[name] = (sandbox, await kit.start(kit.container(sandbox, spec)))

        for name, (sandbox, container) in pods.items():

            async def answers(sandbox=sandbox) -> str:  # type: ignore[no-untyped-def]
                try:
                    return await asyncio.to_thread(host_ask, sandbox.ip)
                except OSError:
                    return ""

            assert await eventually(answers, f"{name} to listen") == f"{name} 127.0.0.1"
            # Inside the pod, 127.0.0.1 and localhost are the pod itself; clients
            # appear with the pod's address.
            assert await ask(container, "127.0.0.1") == f"{name} {sandbox.ip}"
            assert await ask(container, "localhost") == f"{name} {sandbox.ip}"

        (a_box, a), (b_box, _), _ = pods.values()
        assert await ask(a, b_box.ip) == f"pod-b {a_box.ip}"
        for _, container in pods.values():
            assert await container.stop(5) == 143

    kit.run(scenario)


def test_nginx_stand_in_serves_its_html_dir(kit: RuntimeKit, nginx_image: Image) -> None:
    async def scenario() -> None:
        sandbox = kit.sandbox("web-0", subdomain="nginx")
        c = await kit.start(kit.container(sandbox, ContainerSpec("nginx", nginx_image)))
        url = f"http://{sandbox.ip}/"

        def fetch() -> str:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()

        async def page() -> str:
            try:
                return await asyncio.to_thread(fetch)
            except OSError:
                return ""

        assert "Welcome to nginx!" in await eventually(page, "nginx to serve")
        command = 'echo "$(hostname)" > /usr/share/nginx/html/index.html'
        assert (await run_exec(c, ["sh", "-c", command], timeout=5)).exit_code == 0
        assert await asyncio.to_thread(fetch) == "web-0\n"
        assert (await run_exec(c, ["pgrep", "-x", "nginx"], timeout=5)).exit_code == 0
        assert await c.stop(5) == 143

    kit.run(scenario)
