"""The AdminServer path against real ZooKeeper (Debian's 3.8) in localkube (slow).

The official image's example manifest, unchanged, on a localkube of its own: its profile
whitelists only ``srvr`` as four-letter word, so ``mntr`` answers "not in the whitelist";
``Servers`` reads it from each pod's AdminServer (:8080, a second port-forward relay)
instead, and the leader's ``zk_server_state`` / ``zk_synced_followers`` drive the same
``followers_synced`` condition the rotation and upgrade drills wait on. Waits follow the
pod watch (and the condition's recheck) under deadlines.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.conditions import followers_synced, pods_ready
from harness.errors import CommandNotAllowed, ZooKeeperError
from harness.kube.apply import Manifest
from harness.servers import Servers
from harness.waits import wait_for
from harness.zk import fourletter
from harness.zk.profile import get_profile
from tests.harness.drillrun import REPO, cluster_in, localkube

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
EXAMPLE = REPO / "harness" / "manifests" / "examples" / "official-zookeeper.yaml"
PODS = ["zoo-0", "zoo-1", "zoo-2"]
READY = 240.0
SYNCED = 120.0


def test_official_image_mntr_through_the_adminserver() -> None:
    profile = get_profile("zookeeper")
    assert profile.reads_through_admin_server("mntr")
    assert profile.reads_through_admin_server("srvr") is False
    with localkube() as lk:
        cluster = cluster_in(lk.kubeconfig, "adminserver")
        servers = Servers(cluster, PODS, profile, timeout=10.0)
        try:
            cluster.apply(Manifest.load(EXAMPLE))
            with cluster.watch_pods("app=zoo") as pods:
                wait_for(pods_ready(pods, 3, PODS), timeout=READY)
                seen: dict[str, Any] = {}

                def leader_metrics() -> dict[str, Any]:
                    modes = servers.modes()
                    leader = next((p for p, m in modes.items() if m == "leader"), None)
                    seen.update(modes=modes, leader=leader)
                    return {} if leader is None else dict(servers.mntr(leader).values)

                wait_for(followers_synced(pods, leader_metrics, 3), timeout=SYNCED,
                         tolerate=(ZooKeeperError,))
            leader = seen["leader"]
            assert sorted(seen["modes"].values()) == ["follower", "follower", "leader"]
            with pytest.raises(CommandNotAllowed):  # why the AdminServer is needed here
                fourletter.mntr(servers.endpoint(leader), timeout=10.0)
            metrics = servers.mntr(leader)
            assert metrics.server_state == "leader"
            assert metrics.synced_followers == 2
            assert metrics.version.startswith("3.8")
            follower = next(p for p, m in seen["modes"].items() if m == "follower")
            assert servers.mntr(follower).server_state == "follower"
            assert servers.srvr(leader).mode == "leader"  # srvr stays a four-letter word
        finally:
            servers.close()
            cluster.close()
