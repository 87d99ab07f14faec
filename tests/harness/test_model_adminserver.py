"""Parsing of AdminServer replies into the four-letter-word types (pure).

Replies in data/admin-3.8-* were captured from Debian's ZooKeeper 3.8.0 with
``admin.enableServer=true`` (a standalone server, and a three-server ensemble whitelisting
only ``srvr``, as the official image does); the monitor files keep the gauges, the counters
and every key of the 4lw recording mntr-3.8-leader.txt, and drop the other
avg/min/max/cnt/sum/pNN summaries (~450 keys). Key names match
``Commands.java`` of 3.8 and 3.9; 3.9 answers the not-serving error with HTTP 503 instead
of 200, with the same JSON body.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.model.adminserver import (
    UNKNOWN,
    AdminServerParseError,
    monitor_from_json,
    parse_reply,
    refusal,
    srvr_from_json,
)
from harness.model.fourletter import NOT_SERVING, FourLetterParseError, parse_mntr, parse_srvr

DATA = Path(__file__).parent / "data"


def recorded(name: str) -> dict[str, Any]:
    return parse_reply((DATA / name).read_bytes())


def test_leader_srvr_json_gives_the_same_stats_as_the_four_letter_word() -> None:
    stats = srvr_from_json(recorded("admin-3.8-srvr-leader.json"))
    assert stats.mode == "leader"
    assert stats.version.startswith("3.8.0")
    assert stats.zxid == 0x100000000 and stats.epoch == 1 and stats.counter == 0
    assert stats.node_count == 5
    assert (stats.latency_min, stats.latency_avg, stats.latency_max) == (0.0, 0.0, 0.0)
    assert stats.proposal_sizes == (-1, -1, -1)  # leader only, as in the 4lw
    text = parse_srvr((DATA / "srvr-3.8-leader.txt").read_text())
    assert type(stats) is type(text) and stats.mode == text.mode


@pytest.mark.parametrize(("name", "mode"), [
    ("admin-3.8-srvr-follower.json", "follower"),
    ("admin-3.8-srvr-standalone.json", "standalone"),
    ("admin-3.8-stat-standalone.json", "standalone"),
])
def test_srvr_and_stat_json_of_other_modes(name: str, mode: str) -> None:
    stats = srvr_from_json(recorded(name))
    assert stats.mode == mode
    assert stats.proposal_sizes is None
    assert stats.clients == ()


def test_monitor_json_gets_the_zk_prefix_back() -> None:
    leader = monitor_from_json(recorded("admin-3.8-monitor-leader.json"))
    assert leader.values["zk_server_state"] == "leader"
    assert leader.server_state == "leader"
    assert leader.synced_followers == 2
    assert leader.quorum_size == 3
    assert leader.values["zk_peer_state"] == "leading - broadcast"
    assert isinstance(leader.values["zk_avg_latency"], float)
    assert "zk_command" not in leader.values and "zk_error" not in leader.values
    follower = monitor_from_json(recorded("admin-3.8-monitor-follower.json"))
    assert follower.server_state == "follower" and follower.synced_followers is None


def test_monitor_json_names_every_key_the_four_letter_word_prints() -> None:
    """The conditions read ``zk_synced_followers`` etc.; every 4lw key is there."""
    from_json = monitor_from_json(recorded("admin-3.8-monitor-leader.json")).values
    from_text = parse_mntr((DATA / "mntr-3.8-leader.txt").read_text()).values
    assert set(from_text) <= set(from_json)
    for key in ("zk_server_state", "zk_synced_followers", "zk_quorum_size", "zk_version"):
        assert type(from_json[key]) is type(from_text[key]), key


def test_refusals() -> None:
    assert refusal(recorded("admin-3.8-ruok-standalone.json")) is None
    kind, message = refusal(recorded("admin-3.8-srvr-not-serving.json")) or ("", "")
    assert kind == NOT_SERVING and "not currently serving" in message
    unknown = parse_reply(b'{"command": "nosuch", "error": "Unknown command: nosuch"}')
    assert refusal(unknown) == (UNKNOWN, "Unknown command: nosuch")
    leader_only = {"command": "leader", "error": "server is not initialized"}
    assert refusal(leader_only) == ("error", "server is not initialized")


@pytest.mark.parametrize("body", [
    b"<html><head><title>Error 500 java.lang.NullPointerException</title></head></html>",
    b"[1, 2]",
    b"",
])
def test_what_is_not_a_json_object_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(AdminServerParseError):
        parse_reply(body)


def test_wrong_or_incomplete_replies_are_parse_errors() -> None:
    monitor = recorded("admin-3.8-monitor-leader.json")
    with pytest.raises(FourLetterParseError, match="no server_stats"):
        srvr_from_json(monitor)
    with pytest.raises(AdminServerParseError, match="no server_state"):
        monitor_from_json(recorded("admin-3.8-srvr-leader.json"))
    broken = recorded("admin-3.8-srvr-leader.json")
    del broken["server_stats"]["last_processed_zxid"]
    with pytest.raises(AdminServerParseError, match=r"server_stats\.last_processed_zxid"):
        srvr_from_json(broken)
    broken = recorded("admin-3.8-srvr-leader.json")
    broken["node_count"] = "many"
    with pytest.raises(AdminServerParseError, match="malformed"):
        srvr_from_json(broken)

