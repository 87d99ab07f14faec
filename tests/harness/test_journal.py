"""The journal: entries written before changes, undone newest first, idempotently, only ours.

Pure: a ``MemoryStore`` (with simulated racing writers) and a fake API transport stand in for
the ConfigMap; a ``FakeNodes`` cluster stands in for nodes in the "only what we cordoned"
tests of ``harness.faults`` (their undo rules are in ``test_undo_rules.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness.errors import ClusterError
from harness.journal import (
    ConfigMapStore,
    Entry,
    Journal,
    JournalConflict,
    MemoryStore,
    Owner,
    shielded,
)
from harness.kube.lease import lease_expired, micro_time, run_state
from harness.kube.transport import ApiError


def journal(store: MemoryStore | None = None, run: str = "run1") -> Journal:
    return Journal(store or MemoryStore(), Owner.current(run))


def test_an_entry_is_on_the_store_when_record_returns() -> None:
    store = MemoryStore()
    j = journal(store)
    entry = j.record("cordon", "node/node-2", {"node": "node-2"})
    assert list(store.data) == [entry.id]
    assert Entry.from_json(store.data[entry.id]) == entry
    assert entry.owner.pid == os.getpid()


def test_ids_are_unique_and_entries_come_back_in_recording_order() -> None:
    j = journal()
    made = [j.record("cordon", f"node/n{i}", {"node": f"n{i}"}) for i in range(5)]
    assert len({e.id for e in made}) == 5
    assert [e.id for e in j.entries()] == [e.id for e in made]


def test_two_drills_of_one_run_never_overwrite_each_others_entries() -> None:
    store = MemoryStore()
    left_open = journal(store).record("cordon", "node/a", {"node": "a"})
    journal(store).record("cordon", "node/b", {"node": "b"})  # the next drill, same run
    assert left_open.id in store.data and len(store.data) == 2


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown journal entry kind"):
        journal().record("reboot", "node/x", {})


def test_racing_writers_are_retried_with_the_new_version() -> None:
    store = MemoryStore(conflicts=3)
    j = journal(store)
    entry = j.record("cordon", "node/n1", {"node": "n1"})
    assert entry.id in store.data and store.saves == 1


def test_a_journal_that_never_settles_is_an_error() -> None:
    j = Journal(MemoryStore(conflicts=100), Owner.current("r"), retries=5)
    with pytest.raises(ClusterError, match="kept changing"):
        j.record("cordon", "node/n1", {"node": "n1"})


def test_closing_removes_the_entry_and_is_idempotent() -> None:
    store = MemoryStore()
    j = journal(store)
    keep = j.record("cordon", "node/a", {"node": "a"})
    gone = j.record("cordon", "node/b", {"node": "b"})
    j.close(gone.id)
    j.close(gone.id)
    assert list(store.data) == [keep.id]
    j.close(keep.id)
    assert store.load() == ({}, None)  # the last close removes the journal itself


def test_undo_all_goes_newest_first_and_closes_what_it_undid() -> None:
    j = journal()
    first = j.record("template", "statefulset/default/zk", {"statefulset": "zk"})
    second = j.record("cordon", "node/a", {"node": "a"})
    calls: list[str] = []
    undoers = {"cordon": lambda e: calls.append(e.id) or "uncordoned",
               "template": lambda e: calls.append(e.id) or "restored"}
    outcomes = j.undo_all(j.entries(), undoers)
    assert calls == [second.id, first.id]
    assert all(o.ok for o in outcomes) and j.entries() == []


def test_a_failed_undo_keeps_its_entry_and_does_not_stop_the_others() -> None:
    j = journal()
    stuck = j.record("template", "statefulset/default/zk", {"statefulset": "zk"})
    j.record("cordon", "node/a", {"node": "a"})

    def fail(_entry: Entry) -> str:
        raise ClusterError("API unreachable")

    outcomes = j.undo_all(j.entries(), {"cordon": lambda e: "ok", "template": fail})
    assert [o.ok for o in outcomes] == [True, False]
    assert "API unreachable" in outcomes[1].describe()
    assert [e.id for e in j.entries()] == [stuck.id]


def test_an_entry_without_an_undo_stays_open() -> None:
    j = journal()
    j.record("script", "pod/default/zk-0:/x", {})
    [outcome] = j.undo_all(j.entries(), {})
    assert not outcome.ok and "no undo known" in outcome.detail
    assert len(j.entries()) == 1


def test_undoing_twice_is_harmless() -> None:
    nodes = {"a": True}

    def uncordon(entry: Entry) -> str:
        was = nodes[entry.undo["node"]]
        nodes[entry.undo["node"]] = False
        return "uncordoned" if was else "already schedulable"

    j = journal()
    entry = j.record("cordon", "node/a", {"node": "a"})
    assert j.undo(entry, {"cordon": uncordon}).detail == "uncordoned"
    again = j.undo(entry, {"cordon": uncordon})
    assert again.ok and again.detail == "already schedulable" and j.entries() == []


def test_leftovers_are_other_runs_that_are_over() -> None:
    store = MemoryStore()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    crashed = Journal(store, Owner("crashed", os.uname().nodename, int(dead.stdout)))
    alive = Journal(store, Owner("alive", os.uname().nodename, os.getppid()))
    elsewhere = Journal(store, Owner("elsewhere", "another-host", 1))
    me = journal(store, "me")
    for j in (crashed, alive, elsewhere, me):
        j.record("cordon", f"node/{j.owner.run_id}", {"node": j.owner.run_id})
    replay, live = me.leftovers()
    assert sorted(e.owner.run_id for e in replay) == ["crashed", "elsewhere"]
    assert [e.owner.run_id for e in live] == ["alive"]
    assert [e.owner.run_id for e in me.mine()] == ["me"]


def test_shielded_delivers_ctrl_c_only_after_the_undo(request: pytest.FixtureRequest) -> None:
    # Python's own Ctrl-C handler, even when this run inherited SIGINT ignored (`cmd &`).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    finished = []
    with pytest.raises(KeyboardInterrupt), shielded():
        os.kill(os.getpid(), signal.SIGINT)
        finished.append("the undo ran to its end")
    assert finished == ["the undo ran to its end"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- the ConfigMap store, against a fake API ---------------------------------------------------


class FakeApi:
    def __init__(self) -> None:
        self.cm: dict[str, Any] | None = None
        self.rv = 0
        self.requests: list[tuple[str, str]] = []

    def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> dict[str, Any]:
        self.requests.append((method, path))
        if method == "GET":
            if self.cm is None:
                raise ApiError(method, path, 404, "NotFound", "configmaps not found")
            return self.cm
        if method == "POST":
            if self.cm is not None:
                raise ApiError(method, path, 409, "AlreadyExists", "exists")
        elif str((body.get("metadata") or body.get("preconditions") or {}).get(
                "resourceVersion")) != self.cm["metadata"]["resourceVersion"]:
            raise ApiError(method, path, 409, "Conflict", "the object has been modified")
        if method == "DELETE":
            self.cm = None
            return {}
        self.rv += 1
        self.cm = {**body, "metadata": {**body["metadata"], "resourceVersion": str(self.rv)}}
        return self.cm


def test_the_configmap_is_created_labelled_updated_and_deleted_with_preconditions() -> None:
    api = FakeApi()
    j = Journal(ConfigMapStore(api, "drills"), Owner.current("r"))
    entry = j.record("cordon", "node/a", {"node": "a"})
    assert api.cm is not None
    assert api.cm["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "zkdrill"}
    assert api.cm["metadata"]["name"] == "zkdrill-journal"
    j.record("cordon", "node/b", {"node": "b"})
    assert [m for m, _ in api.requests].count("PUT") == 1
    j.close(entry.id)
    j.close(j.entries()[0].id)
    assert api.cm is None and api.requests[-1][0] == "DELETE"


def test_a_stale_version_is_a_conflict() -> None:
    api = FakeApi()
    store = ConfigMapStore(api, "drills")
    store.save({"a": "1"}, None)
    with pytest.raises(JournalConflict):
        store.save({"a": "2"}, "999")


# -- run ownership: Leases ------------------------------------------------------------------------


def test_leftovers_ask_each_run_once_whether_it_is_alive() -> None:
    store = MemoryStore()
    for run in ("alive", "over", "over"):
        Journal(store, Owner(run, "another-host", 1)).record("cordon", f"node/{run}",
                                                             {"node": run})
    asked: list[str] = []

    def alive(owner: Owner) -> bool:
        asked.append(owner.run_id)
        return owner.run_id == "alive"

    replay, live = journal(store, "me").leftovers(alive)
    assert sorted(asked) == ["alive", "over"]
    assert [e.owner.run_id for e in live] == ["alive"]
    assert [e.owner.run_id for e in replay] == ["over", "over"]


def test_a_lease_expires_when_not_renewed_within_its_duration() -> None:
    now = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    lease = {"spec": {"renewTime": "2026-01-01T12:00:00.000000Z", "leaseDurationSeconds": 30}}
    assert not lease_expired(lease, now)
    assert lease_expired(lease, now + timedelta(seconds=1))
    assert lease_expired({"spec": {}}, now)


class FakeLeaseApi:
    def __init__(self, leases: dict[str, dict], served: bool = True) -> None:
        self.leases = leases
        self.served = served

    def request(self, method: str, path: str, **_: Any) -> dict:
        if path == "/apis/coordination.k8s.io/v1":
            if not self.served:
                raise ApiError(method, path, 404, "NotFound", "the server could not find it")
            return {"resources": [{"name": "leases"}]}
        name = path.rsplit("/", 1)[-1]
        if not self.served or name not in self.leases:
            raise ApiError(method, path, 404, "NotFound", f'leases "{name}" not found')
        return self.leases[name]


def test_run_state_reads_the_runs_lease() -> None:
    now = datetime.now(UTC)
    fresh = {"spec": {"renewTime": micro_time(now), "leaseDurationSeconds": 30}}
    stale = {"spec": {"renewTime": micro_time(now - timedelta(minutes=5)),
                      "leaseDurationSeconds": 30}}
    api = FakeLeaseApi({"zkdrill-run-a": fresh, "zkdrill-run-b": stale})
    assert run_state(api, "ns", "a") == "held"  # type: ignore[arg-type]
    assert run_state(api, "ns", "b") == "expired"  # type: ignore[arg-type]
    assert run_state(api, "ns", "c") == "absent"  # type: ignore[arg-type]
    assert run_state(FakeLeaseApi({}, served=False), "ns", "a") == "unserved"  # type: ignore[arg-type]
