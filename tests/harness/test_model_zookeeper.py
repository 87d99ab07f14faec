"""Parsing of four-letter words and zoo.cfg, and quorum math (pure).

Replies in data/ were captured from Debian's ZooKeeper 3.8.0 (a standalone server and a
three-server ensemble); the mntr file keeps a subset of its ~300 lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model import fourletter
from harness.model.fourletter import (
    NOT_ALLOWED,
    NOT_SERVING,
    FourLetterParseError,
    is_imok,
    parse_mntr,
    parse_srvr,
    parse_stat,
    refusal,
)
from harness.model.ordinals import expected_server_lines
from harness.model.quorum import (
    UNREACHABLE,
    assess_ensemble,
    has_quorum,
    quorum_size,
    tolerated_failures,
)
from harness.model.zoocfg import ServerEntry, parse_zoo_cfg

DATA = Path(__file__).parent / "data"


def reply(name: str) -> str:
    return (DATA / name).read_text()


def test_srvr_follower():
    stats = parse_srvr(reply("srvr-3.8-follower.txt"))
    assert stats.mode == "follower"
    assert stats.zxid == 0x100000000
    assert (stats.epoch, stats.counter) == (1, 0)
    assert stats.node_count == 5
    assert stats.version.startswith("3.8.0")
    assert (stats.latency_min, stats.latency_avg, stats.latency_max) == (0, 0.0, 0)
    assert (stats.received, stats.sent, stats.connections, stats.outstanding) == (1, 0, 1, 0)
    assert stats.proposal_sizes is None


def test_srvr_leader_has_proposal_sizes():
    stats = parse_srvr(reply("srvr-3.8-leader.txt"))
    assert stats.mode == fourletter.LEADER
    assert stats.proposal_sizes == (-1, -1, -1)


def test_srvr_standalone():
    assert parse_srvr(reply("srvr-3.8-standalone.txt")).mode == fourletter.STANDALONE


def test_srvr_of_zookeeper_3_4_the_tutorial_image():
    text = (
        "Zookeeper version: 3.4.10-39d3a4f269333c922ed3db283be479f9deacaa0f, built on "
        "03/23/2017 10:13 GMT\nLatency min/avg/max: 0/2/31\nReceived: 87\nSent: 86\n"
        "Connections: 1\nOutstanding: 0\nZxid: 0x200000002\nMode: leader\nNode count: 5\n"
    )
    stats = parse_srvr(text)
    assert (stats.mode, stats.epoch, stats.counter, stats.latency_avg) == ("leader", 2, 2, 2.0)


def test_stat_keeps_client_lines():
    stats = parse_stat(reply("stat-3.8-follower.txt"))
    assert stats.clients == ("/127.0.0.1:37782[0](queued=0,recved=1,sent=0)",)
    assert stats.mode == "follower"
    assert stats.node_count == 5


def test_mntr():
    mon = parse_mntr(reply("mntr-3.8-leader.txt"))
    assert mon.server_state == "leader"
    assert mon.znode_count == 5
    assert mon.synced_followers == 2
    assert mon.quorum_size == 3
    assert mon.avg_latency == 0.0
    assert mon.alive_connections == 1
    assert (mon.ephemerals_count, mon.watch_count, mon.outstanding_requests) == (0, 0, 0)
    assert mon.get("peer_state") == "leading - broadcast"
    assert mon.get("zk_peer_state") == mon.get("peer_state")
    assert mon.version.startswith("3.8.0")
    assert mon.get("no_such_key") is None


def test_refusals_are_recognised_not_parsed():
    not_serving = "This ZooKeeper instance is not currently serving requests\n"
    not_allowed = "mntr is not executed because it is not in the whitelist.\n"
    assert refusal(not_serving) == NOT_SERVING
    assert refusal(not_allowed) == NOT_ALLOWED
    assert refusal(reply("srvr-3.8-leader.txt")) is None
    with pytest.raises(FourLetterParseError, match="missing"):
        parse_srvr(not_serving)
    with pytest.raises(FourLetterParseError, match="zk_server_state"):
        parse_mntr(not_serving)


def test_garbage_is_a_parse_error():
    with pytest.raises(FourLetterParseError, match="malformed"):
        parse_srvr("Zookeeper version: x\nMode: leader\nZxid: zz\nNode count: 1\n")
    with pytest.raises(FourLetterParseError):
        parse_srvr("")


def test_ruok():
    assert is_imok("imok")
    assert is_imok("imok\n")
    assert not is_imok("")
    assert not is_imok("ruok is not executed because it is not in the whitelist.\n")


def test_zoo_cfg_of_the_tutorial():
    text = """
clientPort=2181
dataDir=/var/lib/zookeeper/data
dataLogDir=/var/lib/zookeeper/log
tickTime=2000
initLimit=10
syncLimit=2000
maxClientCnxns=60
minSessionTimeout= 4000
maxSessionTimeout= 40000
autopurge.snapRetainCount=3
autopurge.purgeInterval=0
server.1=zk-0.zk-hs.default.svc.cluster.local:2888:3888
server.2=zk-1.zk-hs.default.svc.cluster.local:2888:3888
server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888
"""
    cfg = parse_zoo_cfg(text)
    assert cfg.get("minSessionTimeout") == "4000"
    assert cfg.get("autopurge.snapRetainCount") == "3"
    assert cfg.get("missing", "x") == "x"
    assert "server.1" not in cfg.values
    assert cfg.server_lines() == expected_server_lines("zk", 3, "zk-hs", "default")
    assert cfg.servers[0] == ServerEntry(1, "zk-0.zk-hs.default.svc.cluster.local", 2888, 3888)


def test_conf_word_reply_and_dynamic_server_syntax():
    cfg = parse_zoo_cfg(reply("conf-3.8-ensemble.txt"))
    assert cfg.get("serverId") == "1"
    assert cfg.get("membership") == ""
    assert [s.role for s in cfg.servers] == ["participant"] * 3
    dynamic = parse_zoo_cfg(
        "# comment\n! also a comment\nserver.2=b:2888:3888:observer;0.0.0.0:2181\n"
        "server.1=a:2888:3888;2181\n"
    )
    assert [(s.id, s.host, s.role, s.client_port) for s in dynamic.servers] == [
        (1, "a", "participant", 2181),
        (2, "b", "observer", 2181),
    ]
    with pytest.raises(ValueError, match="line 1"):
        parse_zoo_cfg("server.1=host-only")


@pytest.mark.parametrize(
    ("voters", "quorum", "tolerated"), [(1, 1, 0), (2, 2, 0), (3, 2, 1), (4, 3, 1), (5, 3, 2)]
)
def test_quorum_math(voters, quorum, tolerated):
    assert quorum_size(voters) == quorum
    assert tolerated_failures(voters) == tolerated
    assert has_quorum(quorum, voters)
    assert not has_quorum(quorum - 1, voters)


def test_quorum_size_needs_a_server():
    with pytest.raises(ValueError):
        quorum_size(0)


def test_healthy_ensemble():
    health = assess_ensemble({"zk-0": "follower", "zk-1": "leader", "zk-2": "follower"}, 3)
    assert health.healthy
    assert health.leader == "zk-1"
    assert health.followers == ("zk-0", "zk-2")
    assert health.detail == "leader zk-1; followers zk-0, zk-2"
    assert health.as_progress().done


@pytest.mark.parametrize(
    ("modes", "problem"),
    [
        ({"zk-0": "follower", "zk-1": "follower", "zk-2": "follower"}, "no leader"),
        ({"zk-0": "leader", "zk-1": "leader", "zk-2": "follower"}, "2 leaders: zk-0, zk-1"),
        ({"zk-0": "leader", "zk-1": "follower", "zk-2": NOT_SERVING}, "zk-2 is not-serving"),
        ({"zk-0": "leader", "zk-1": "follower", "zk-2": UNREACHABLE}, "zk-2 is unreachable"),
        ({"zk-0": "leader", "zk-1": "follower"}, "expected 3 servers, got 2"),
        ({"zk-0": "standalone", "zk-1": "follower", "zk-2": "leader"}, "zk-0 is standalone"),
    ],
)
def test_unhealthy_ensembles(modes, problem):
    health = assess_ensemble(modes, 3)
    assert not health.healthy
    assert problem in health.problems
    assert problem in health.as_progress().detail


def test_single_server_ensemble_is_standalone():
    assert assess_ensemble({"zk-0": "standalone"}, 1).healthy
    assert not assess_ensemble({"zk-0": "leader"}, 1).healthy
