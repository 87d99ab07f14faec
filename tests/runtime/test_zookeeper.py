"""Three ZooKeeper containers form an ensemble on pod loopback addresses.

The container settings (image, exact start command, probe, user, fsGroup, volume path)
are read from the tutorial's manifest, so this is what the kubelet will run.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from localkube.images import pull_image
from localkube.runtime import Container, ContainerSpec, VolumeMount, run_exec

from .conftest import RuntimeKit, eventually, processes_in_namespaces, require_zookeeper

pytestmark = pytest.mark.slow

MANIFEST = Path(__file__).resolve().parents[2] / "harness" / "manifests" / "zookeeper.yaml"


def statefulset_pod_spec() -> dict[str, Any]:
    for doc in yaml.safe_load_all(MANIFEST.read_text()):
        if doc and doc.get("kind") == "StatefulSet":
            return doc["spec"]["template"]["spec"]
    raise AssertionError("no StatefulSet in the manifest")


def four_letter(ip: str, word: str) -> str:
    with socket.create_connection((ip, 2181), timeout=5) as conn:
        conn.sendall(word.encode())
        chunks = []
        while data := conn.recv(4096):
            chunks.append(data)
    return b"".join(chunks).decode()


def quorum_peers_in(namespaces: set[str]) -> set[int]:
    """`pgrep -f QuorumPeerMain`, limited to this test's containers (other sessions on the
    machine may run ZooKeeper servers of their own)."""
    found = subprocess.run(["pgrep", "-f", "QuorumPeerMain"], capture_output=True, text=True)
    pids = {int(p) for p in found.stdout.split()}
    return pids & set(processes_in_namespaces(namespaces))


def test_three_servers_form_an_ensemble(kit: RuntimeKit, runtime_cache: Path) -> None:
    require_zookeeper()
    pod = statefulset_pod_spec()
    spec = pod["containers"][0]
    security = pod["securityContext"]
    probe = spec["readinessProbe"]["exec"]["command"]
    mount_path = spec["volumeMounts"][0]["mountPath"]
    image = pull_image(spec["image"], runtime_cache)
    seen: set[int] = set()

    async def scenario() -> None:
        sandboxes = [kit.sandbox(f"zk-{i}", subdomain="zk-hs") for i in range(3)]
        fqdns = [f"zk-{i}.zk-hs.default.svc.cluster.local" for i in range(3)]
        records = [(sandbox.ip, [fqdn]) for sandbox, fqdn in zip(sandboxes, fqdns, strict=True)]
        servers: list[Container] = []
        for i, sandbox in enumerate(sandboxes):
            sandbox.update_hosts(records)
            container_spec = ContainerSpec(
                spec["name"],
                image,
                command=spec["command"],
                run_as_user=security["runAsUser"],
                fs_group=security["fsGroup"],
                volume_mounts=[VolumeMount(kit.volume(f"datadir-zk-{i}"), mount_path)],
            )
            servers.append(await kit.start(kit.container(sandbox, container_spec)))

        for i, server in enumerate(servers):

            async def ready(server: Container = server) -> bool:
                return (await run_exec(server, probe, timeout=5)).exit_code == 0

            await eventually(ready, f"zk-{i} to answer its readiness probe", timeout=60)

        async def modes() -> list[str] | None:
            found = []
            for sandbox in kit.sandboxes:
                try:
                    report = await asyncio.to_thread(four_letter, sandbox.ip, "srvr")
                except OSError:
                    return None
                mode = [ln for ln in report.splitlines() if ln.startswith("Mode: ")]
                if not mode:
                    return None
                found.append(mode[0].removeprefix("Mode: "))
            return sorted(found)

        assert await eventually(modes, "a leader and two followers", timeout=60) == [
            "follower",
            "follower",
            "leader",
        ]
        for i, server in enumerate(servers):
            myid = await run_exec(server, ["cat", f"{mount_path}/data/myid"], timeout=5)
            assert myid.stdout == f"{i + 1}\n".encode()
        config = (await run_exec(servers[0], ["cat", "/opt/zookeeper/conf/zoo.cfg"])).stdout
        for n in range(3):
            assert f"server.{n + 1}={fqdns[n]}:2888:3888\n".encode() in config

        created = await run_exec(servers[0], ["zkCli.sh", "create", "/hello", "world"], timeout=60)
        assert created.exit_code == 0, created
        got = await run_exec(servers[1], ["zkCli.sh", "get", "/hello"], timeout=60)
        assert got.exit_code == 0 and "world" in got.stdout.decode().splitlines(), got
        remote = await run_exec(
            servers[0],
            ["zkCli.sh", "-server", f"{fqdns[2]}:2181", "get", "/hello"],
            timeout=60,
        )
        assert "world" in remote.stdout.decode().splitlines(), remote

        ps = (await run_exec(servers[2], ["ps", "-elf"], timeout=5)).stdout.decode()
        java = [line for line in ps.splitlines() if "QuorumPeerMain" in line]
        assert len(java) == 1 and java[0].split()[2] == "zookeep+"
        assert "-Xmx512M" in java[0]
        seen.update(quorum_peers_in(kit.namespaces))
        assert len(seen) == 3

        # The tutorial's process drill: killing java ends the container with 143.
        assert (await run_exec(servers[0], ["pkill", "java"], timeout=5)).exit_code == 0
        assert await asyncio.wait_for(servers[0].wait(), 30) == 143
        for server in servers[1:]:
            assert await server.stop(30) == 143

    kit.run(scenario)
    assert processes_in_namespaces(kit.namespaces) == []
    assert quorum_peers_in(kit.namespaces) == set()
    assert not any(Path(f"/proc/{pid}").exists() for pid in seen)
