"""harness.zk against real ZooKeeper 3.8 servers started on 127.0.0.1 (slow).

Skipped where Java or Debian's ZooKeeper jars are missing, except in CI (``CI`` set), where
a missing install step must fail loudly instead of hiding behind a skip.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest
from kazoo.exceptions import NoNodeError

from harness.errors import (
    CommandNotAllowed,
    DrillFailure,
    FourLetterWordError,
    NotServing,
    ZkSessionError,
)
from harness.model import fourletter as model
from harness.model.progress import Progress
from harness.model.quorum import UNREACHABLE, assess_ensemble
from harness.waits import wait_for
from harness.zk import fourletter
from harness.zk.client import session, synced_get
from harness.zk.endpoint import Endpoint
from harness.zk.sentinels import ROOT, make_sentinels, verify_sentinels, write_sentinels
from tests.harness.zkserver import LocalEnsemble, free_port, missing_requirement

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module", autouse=True)
def _needs_zookeeper() -> None:
    reason = missing_requirement()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"real ZooKeeper required in CI: {reason}")
    pytest.skip(reason)


def healthy_servers(
    tmp_path_factory: pytest.TempPathFactory, name: str, size: int
) -> Iterator[LocalEnsemble]:
    """``size`` local ZooKeeper servers, started and healthy, closed after the module."""
    servers = LocalEnsemble(tmp_path_factory.mktemp(name), size)
    try:
        servers.start()
        servers.wait_healthy()
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnsemble]:
    yield from healthy_servers(tmp_path_factory, "standalone", 1)


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnsemble]:
    yield from healthy_servers(tmp_path_factory, "ensemble", 3)


@pytest.fixture
def scratch_ensemble(tmp_path) -> Iterator[LocalEnsemble]:
    """An ensemble a test may break."""
    servers = LocalEnsemble(tmp_path, 3)
    try:
        servers.start()
        servers.wait_healthy()
        yield servers
    finally:
        servers.close()


def zk0(servers: LocalEnsemble) -> Endpoint:
    return servers.server("zk-0").endpoint


# --- four-letter words ---------------------------------------------------------------------------


def test_four_letter_words_on_a_standalone_server(standalone):
    ep = zk0(standalone)
    assert fourletter.ruok(ep)
    stats = fourletter.srvr(ep)
    assert stats.mode == model.STANDALONE
    assert stats.version.startswith("3.8")
    assert stats.node_count >= 4
    monitor = fourletter.mntr(ep)  # the full ~300-line reply of a real server
    assert monitor.server_state == "standalone"
    assert monitor.znode_count == stats.node_count
    assert len(monitor.values) > 100
    assert fourletter.stat(str(ep)).clients  # our own connection is listed
    assert fourletter.server_mode((ep.host, ep.port)) == "standalone"


def test_nothing_listening_is_unreachable():
    ep = Endpoint("127.0.0.1", free_port())
    with pytest.raises(FourLetterWordError, match=f"{ep}: ruok: Connection refused"):
        fourletter.ruok(ep, timeout=2)
    assert fourletter.server_mode(ep, timeout=2) == UNREACHABLE


def test_a_silent_server_times_out_within_the_deadline():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts into the backlog, never answers
        ep = Endpoint("127.0.0.1", listener.getsockname()[1])
        began = time.monotonic()
        with pytest.raises(FourLetterWordError, match=f"{ep}: srvr"):
            fourletter.srvr(ep, timeout=0.5)
        assert time.monotonic() - began < 3


def test_word_outside_the_whitelist(tmp_path):
    restricted = LocalEnsemble(tmp_path, 1, whitelist="ruok,srvr")
    try:
        restricted.start()
        restricted.wait_healthy()  # srvr is whitelisted
        ep = zk0(restricted)
        assert fourletter.srvr(ep).mode == "standalone"
        with pytest.raises(CommandNotAllowed, match="'mntr' is not in the server's"):
            fourletter.mntr(ep)
    finally:
        restricted.close()


def test_ensemble_has_one_leader(ensemble):
    modes = fourletter.ensemble_modes(ensemble.endpoints)
    assert list(modes) == ["zk-0", "zk-1", "zk-2"]
    health = assess_ensemble(modes, 3)
    assert health.healthy, health.detail
    leader = ensemble.server(health.leader or "")
    assert fourletter.srvr(leader.endpoint).proposal_sizes is not None
    assert fourletter.mntr(leader.endpoint).synced_followers == 2


# --- kazoo sessions ------------------------------------------------------------------------------


def test_session_reads_and_writes_and_always_closes(standalone):
    ep = zk0(standalone)
    with session(ep, timeout=10) as zk:
        zk.ensure_path("/zkdrill/test")
        zk.create("/zkdrill/test/hello", b"world")
        assert synced_get(zk, "/zkdrill/test/hello") == b"world"
        client = zk
    assert not client.connected
    with pytest.raises(RuntimeError), session(ep) as zk:
        client = zk
        raise RuntimeError("drill step failed")
    assert not client.connected
    with session(ep) as zk, pytest.raises(NoNodeError):
        synced_get(zk, "/zkdrill/test/absent")


def test_session_to_a_dead_server_fails_fast_naming_it():
    ep = Endpoint("127.0.0.1", free_port())
    began = time.monotonic()
    with (
        pytest.raises(ZkSessionError, match=f"{ep}: no session within 1.0s"),
        session(ep, timeout=1),
    ):
        pass
    assert time.monotonic() - began < 5


# --- sentinels -----------------------------------------------------------------------------------


def test_sentinels_on_a_standalone_server(standalone):
    ep = zk0(standalone)
    sentinels = make_sentinels("standalone-run", count=3)
    write_sentinels(ep, sentinels)
    write_sentinels(ep, sentinels)  # rewriting is fine
    report = verify_sentinels({"zk-0": ep}, sentinels)
    assert report.ok, report.summary()
    assert report.summary() == f"zk-0 ({ep}): all sentinels intact"
    report.assert_intact()

    with session(ep) as zk:
        zk.set(sentinels[1].path, b"tampered")
        zk.delete(sentinels[2].path)
    broken = verify_sentinels({"zk-0": ep}, sentinels)
    assert not broken.ok
    check = broken.checks[0]
    assert check.missing == (f"{ROOT}/2",)
    assert [(m.path, m.actual) for m in check.mismatched] == [(f"{ROOT}/1", b"tampered")]
    with pytest.raises(DrillFailure, match=f"missing {ROOT}/2"):
        broken.assert_intact()
    assert broken.as_dict()["ok"] is False


def test_sentinels_written_through_one_server_are_on_every_server(ensemble):
    sentinels = make_sentinels("ensemble-run", count=5)
    write_sentinels(ensemble.server("zk-2").endpoint, sentinels)
    report = verify_sentinels(ensemble.endpoints, sentinels)
    assert report.ok, report.summary()
    assert [c.server for c in report.checks] == ["zk-0", "zk-1", "zk-2"]


def test_losing_servers(scratch_ensemble):
    """One server down: data intact elsewhere; two down: the last one stops serving."""
    servers = scratch_ensemble
    sentinels = make_sentinels("failure-run")
    write_sentinels(zk0(servers), sentinels)
    modes = fourletter.ensemble_modes(servers.endpoints)
    follower = next(name for name, mode in modes.items() if mode == "follower")

    servers.stop(follower)
    report = verify_sentinels(servers.endpoints, sentinels, timeout=2)
    down = next(c for c in report.checks if c.server == follower)
    assert down.error is not None and down.data_intact
    assert all(c.ok for c in report.checks if c.server != follower)
    report.assert_intact(allow_unreachable={follower})
    with pytest.raises(DrillFailure, match=f"{follower} .*could not check"):
        report.assert_intact()
    health = assess_ensemble(fourletter.ensemble_modes(servers.endpoints, timeout=2), 3)
    assert f"{follower} is unreachable" in health.problems

    servers.start(follower)
    servers.wait_healthy()
    assert verify_sentinels(servers.endpoints, sentinels).ok

    survivor, *others = servers.endpoints
    for name in others:
        servers.stop(name)
    ep = servers.server(survivor).endpoint
    assert fourletter.ruok(ep)  # the process is alive...

    def lone_server() -> Progress:
        mode = fourletter.server_mode(ep, timeout=2)
        return Progress(mode == model.NOT_SERVING, f"{survivor} is {mode}")

    wait_for(lone_server, timeout=30, description=f"{survivor} to lose quorum", recheck=0.1)
    with pytest.raises(NotServing, match=str(ep)):  # ...but serves nothing without quorum
        fourletter.srvr(ep)
    with pytest.raises(ZkSessionError), session(ep, timeout=1):
        pass
