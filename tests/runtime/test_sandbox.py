"""Pod sandboxes: address allocation and the kubelet-managed name-service files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from localkube.runtime import AddressExhaustedError, LoopbackAllocator, PodSandbox, short_names
from localkube.runtime.sandbox import search_domains


def test_allocator_hands_out_distinct_addresses_of_its_subnet() -> None:
    alloc = LoopbackAllocator(7)
    ips = [alloc.allocate() for _ in range(3)]
    assert ips == ["127.7.0.2", "127.7.0.3", "127.7.0.4"]
    assert alloc.in_use() == set(ips)


def test_allocator_reuses_only_released_addresses_and_only_when_fresh_ones_run_out() -> None:
    alloc = LoopbackAllocator(7)
    alloc._last = alloc._next + 2  # a tiny subnet: three addresses
    first, second, third = (alloc.allocate() for _ in range(3))
    with pytest.raises(AddressExhaustedError):
        alloc.allocate()
    alloc.release(second)
    assert alloc.allocate() == second
    assert first != third


def test_allocator_reserve_marks_an_address_taken() -> None:
    alloc = LoopbackAllocator(9)
    alloc.reserve("127.9.0.2")
    assert alloc.allocate() == "127.9.0.3"
    with pytest.raises(ValueError):
        alloc.reserve("127.10.0.1")


def test_short_names_follow_the_search_path_of_the_pods_namespace() -> None:
    search = search_domains("default")
    assert short_names("zk-cs.default.svc.cluster.local", search) == [
        "zk-cs.default.svc.cluster.local",
        "zk-cs",
        "zk-cs.default",
        "zk-cs.default.svc",
    ]
    other = search_domains("other")
    assert short_names("zk-cs.default.svc.cluster.local", other) == [
        "zk-cs.default.svc.cluster.local",
        "zk-cs.default",
        "zk-cs.default.svc",
    ]


def test_hosts_file_of_a_statefulset_pod(tmp_path: Path) -> None:
    sandbox = PodSandbox(
        tmp_path / "zk-0", ip="127.7.0.2", name="zk-0", hostname="zk-0", subdomain="zk-hs"
    )
    sandbox.create([("127.7.0.3", ["zk-1.zk-hs.default.svc.cluster.local"])])
    hosts = sandbox.hosts_path.read_text()
    assert hosts.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert "127.7.0.2\tzk-0.zk-hs.default.svc.cluster.local\tzk-0\n" in hosts
    assert "127.7.0.3\tzk-1.zk-hs.default.svc.cluster.local zk-1.zk-hs " in hosts
    assert sandbox.hostname_path.read_text() == "zk-0\n"
    assert sandbox.resolv_conf_path.read_text() == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 127.0.0.1\n"
        "options ndots:5\n"
    )


def test_hosts_file_without_subdomain_names_the_pod(tmp_path: Path) -> None:
    sandbox = PodSandbox(tmp_path / "p", ip="127.7.0.9", name="web")
    sandbox.create()
    assert sandbox.hosts_path.read_text().endswith("127.7.0.9\tweb\n")
    assert sandbox.fqdn is None


def test_update_hosts_rewrites_the_file_in_place(tmp_path: Path) -> None:
    sandbox = PodSandbox(tmp_path / "p", ip="127.7.0.2", name="zk-0", subdomain="zk-hs")
    sandbox.create([("127.7.0.3", ["zk-1.zk-hs.default.svc.cluster.local"])] * 3)
    inode = os.stat(sandbox.hosts_path).st_ino
    sandbox.update_hosts([])
    assert os.stat(sandbox.hosts_path).st_ino == inode
    assert "zk-1" not in sandbox.hosts_path.read_text()
