"""What a drill changed on the cluster, written on the cluster *before* each change.

Why on the cluster: a run killed with SIGKILL (or a laptop that lost power) leaves nodes
cordoned and templates patched; the next run, or ``pytest --zkdrill-repair``, finds the
journal where the change was made and undoes exactly what the harness did, nothing else.

The journal is the ConfigMap ``zkdrill-journal`` in the drill namespace (labelled
``app.kubernetes.io/managed-by=zkdrill``), one data key per ``Entry`` (JSON: id, kind,
target, undo data, owner run/host/pid, timestamp, and ``applied``).

An entry is written as an *intent* (``applied`` is None) before the API call, and marked
applied (``mark_applied``, with what the live object looked like right after: the node's
resourceVersion, the patched template) once the call succeeded. Undoers act only where the
live object still shows what this run made (``harness.undo``), so an intent whose change was
never made, or was replaced by someone else's since, is closed without touching anything.

Which runs are over: every run holds a ``coordination.k8s.io/v1`` Lease
(``harness.kube.lease``); ``leftovers`` takes the liveness test as a function, so replay can
ask the Lease (any machine) and fall back to host and pid only where Leases are not served.

Every write is a read-modify-write with the ConfigMap's resourceVersion (409 -> re-read and
retry), and the ConfigMap is deleted when its last entry is closed. An entry is closed only
after its undo was verified, so an interrupted undo is simply done again: undoers must be
idempotent.

``Journal.undo_all`` undoes newest first (a cordon made after a template patch is lifted
before the template is restored) and keeps going past a failed undo, reporting each.
``shielded`` keeps Ctrl-C and pytest-timeout's SIGALRM from cutting an undo in half: the
signal is delivered as soon as the undo is over.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any, Protocol

from harness.errors import ClusterError, HarnessError

JOURNAL_NAME = "zkdrill-journal"
MANAGED_BY = {"app.kubernetes.io/managed-by": "zkdrill"}
KINDS = ("cordon", "template", "script", "node", "rollout", "statefulset", "hang")
# set on a node in the same patch as ``spec.unschedulable``: which run's cordon this is
CORDONED_BY = "zkdrill.io/cordoned-by"

# kind -> undo the entry (idempotent); returns what it did, raises if it could not
Undoer = Callable[["Entry"], str]


class JournalConflict(HarnessError):
    """Someone else wrote the journal between our read and our write (HTTP 409)."""


@dataclass(frozen=True)
class Owner:
    """Which run recorded an entry, and where it runs (to leave a live run's entries alone)."""

    run_id: str
    host: str
    pid: int

    @classmethod
    def current(cls, run_id: str) -> Owner:
        return cls(run_id, socket.gethostname(), os.getpid())

    def alive_elsewhere(self) -> bool:
        """Another process on this host that is still running (so its run is not over)."""
        if self.host != socket.gethostname() or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str  # one of KINDS
    target: str  # "node/node-2", "statefulset/default/zk", "pod/default/zk-0:/path"
    undo: Mapping[str, Any]
    owner: Owner
    recorded: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    seq: int = 0
    applied: Mapping[str, Any] | None = None  # None: intent only (the change may not exist)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Entry:
        data = json.loads(text)
        data["owner"] = Owner(**data["owner"])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def describe(self) -> str:
        o = self.owner
        state = "" if self.applied is not None else ", intent only"
        return f"{self.kind} {self.target} (run {o.run_id}, pid {o.pid} on {o.host}, " \
            f"{self.recorded}{state})"


class Store(Protocol):
    """Where entries live: ``load`` gives data and a version (None: nothing stored yet);
    ``save`` writes data only if the version is still current, else ``JournalConflict``."""

    def load(self) -> tuple[dict[str, str], str | None]: ...

    def save(self, data: dict[str, str], version: str | None) -> str | None: ...


class MemoryStore:
    """In-process store for the pure tests; ``conflicts`` fakes that many racing writers."""

    def __init__(self, conflicts: int = 0) -> None:
        self.data: dict[str, str] = {}
        self.version = 0
        self.conflicts = conflicts
        self.saves = 0

    def load(self) -> tuple[dict[str, str], str | None]:
        return dict(self.data), (str(self.version) if self.data else None)

    def save(self, data: dict[str, str], version: str | None) -> str | None:
        if self.conflicts > 0:
            self.conflicts -= 1
            self.version += 1
            raise JournalConflict("simulated concurrent writer")
        current = str(self.version) if self.data else None
        if version != current:
            raise JournalConflict(f"version {version} is not {current}")
        self.saves += 1
        self.version += 1
        self.data = dict(data)
        return str(self.version) if data else None


class ConfigMapStore:
    """The journal ConfigMap, written with resourceVersion preconditions."""

    def __init__(self, transport: Any, namespace: str, name: str = JOURNAL_NAME) -> None:
        self.transport = transport
        self.namespace = namespace
        self.name = name
        self.path = f"/api/v1/namespaces/{namespace}/configmaps"

    def load(self) -> tuple[dict[str, str], str | None]:
        try:
            cm = self.transport.request("GET", f"{self.path}/{self.name}")
        except ClusterError as exc:
            if getattr(exc, "status", None) == 404:
                return {}, None
            raise
        return dict(cm.get("data") or {}), str(cm["metadata"]["resourceVersion"])

    def save(self, data: dict[str, str], version: str | None) -> str | None:
        meta: dict[str, Any] = {"name": self.name, "namespace": self.namespace,
                                "labels": dict(MANAGED_BY)}
        try:
            if version is None:
                body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
                created = self.transport.request("POST", self.path, body=body)
                return str(created["metadata"]["resourceVersion"])
            if not data:
                self.transport.request(
                    "DELETE", f"{self.path}/{self.name}",
                    body={"apiVersion": "v1", "kind": "DeleteOptions",
                          "preconditions": {"resourceVersion": version}},
                )
                return None
            meta["resourceVersion"] = version
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
            updated = self.transport.request("PUT", f"{self.path}/{self.name}", body=body)
            return str(updated["metadata"]["resourceVersion"])
        except ClusterError as exc:
            if getattr(exc, "status", None) in (404, 409):  # raced: created, changed or gone
                raise JournalConflict(str(exc)) from exc
            raise


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    ok: bool
    detail: str

    def describe(self) -> str:
        return f"{'undone' if self.ok else 'NOT undone'}: {self.entry.describe()}: {self.detail}"


class Journal:
    """Record before changing; close after the undo is verified."""

    def __init__(self, store: Store, owner: Owner, *, retries: int = 20) -> None:
        self.store = store
        self.owner = owner
        self.retries = retries
        self._seq = 0
        self._lock = threading.Lock()

    def entries(self) -> list[Entry]:
        """Every open entry, oldest first."""
        data, _ = self.store.load()
        return sorted((Entry.from_json(v) for v in data.values()), key=_order)

    def mine(self) -> list[Entry]:
        return [e for e in self.entries() if e.owner.run_id == self.owner.run_id]

    def leftovers(self, alive: Callable[[Owner], bool] | None = None
                  ) -> tuple[list[Entry], list[Entry]]:
        """(entries of finished runs to replay, entries of runs still alive).

        ``alive(owner)`` says whether a run is still going (its Lease is held); asked once per
        run. Without it, host and pid decide (a live process on this host)."""
        alive = alive or Owner.alive_elsewhere
        verdicts: dict[str, bool] = {}
        replay: list[Entry] = []
        live: list[Entry] = []
        for entry in self.entries():
            run = entry.owner.run_id
            if run == self.owner.run_id:
                continue
            if run not in verdicts:
                verdicts[run] = alive(entry.owner)
            (live if verdicts[run] else replay).append(entry)
        return replay, live

    def record(self, kind: str, target: str, undo: Mapping[str, Any]) -> Entry:
        """Write the entry (before the change it describes is made)."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal entry kind {kind!r}")
        with self._lock:
            self._seq += 1
            # unique even across Journal objects of one run (one per drill)
            key = f"{self.owner.run_id}-{self._seq:03d}-{uuid.uuid4().hex[:6]}"
            entry = Entry(key, kind, target, dict(undo), self.owner, seq=self._seq)
        self._update(lambda data: data.__setitem__(entry.id, entry.to_json()))
        return entry

    def mark_applied(self, entry: Entry, applied: Mapping[str, Any]) -> Entry:
        """The change ``entry`` announced was made; ``applied`` is how the live object looked
        right after. A closed entry is not brought back."""
        done = dataclasses.replace(entry, applied=dict(applied))

        def change(data: dict[str, str]) -> None:
            if entry.id in data:
                data[entry.id] = done.to_json()

        self._update(change)
        return done

    def close(self, entry_id: str) -> None:
        """Remove an undone entry; closing an absent one is fine (idempotent)."""
        self._update(lambda data: data.pop(entry_id, None))

    def undo(self, entry: Entry, undoers: Mapping[str, Undoer]) -> Outcome:
        """Undo one entry and close it; an undo that fails leaves the entry open."""
        undoer = undoers.get(entry.kind)
        if undoer is None:
            return Outcome(entry, False, f"no undo known for kind {entry.kind!r}")
        try:
            with shielded():
                detail = undoer(entry)
                self.close(entry.id)
        except HarnessError as exc:
            return Outcome(entry, False, str(exc))
        return Outcome(entry, True, detail)

    def undo_all(self, entries: list[Entry], undoers: Mapping[str, Undoer]) -> list[Outcome]:
        """Undo newest first; keep going after a failure so one stuck entry blocks nothing."""
        newest_first = sorted(entries, key=_order, reverse=True)
        return [self.undo(e, undoers) for e in newest_first]

    def _update(self, change: Callable[[dict[str, str]], object]) -> None:
        for _ in range(self.retries):
            data, version = self.store.load()
            before = dict(data)
            change(data)
            if data == before:
                return
            try:
                self.store.save(data, version)
                return
            except JournalConflict:
                continue
        raise ClusterError(f"the journal kept changing under us ({self.retries} attempts)")


def _order(entry: Entry) -> tuple[str, str, int]:
    return (entry.recorded, entry.owner.run_id, entry.seq)


@contextlib.contextmanager
def shielded(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGALRM)) -> Iterator[None]:
    """Hold back SIGINT/SIGALRM while the body runs; deliver them to their handler after.

    Only possible in the main thread (elsewhere signals go to the main thread anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[tuple[int, FrameType | None]] = []
    previous = {}
    for signum in signals:
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, lambda s, f: pending.append((s, f)))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum, frame in pending:
            handler = previous[signum]
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL and signum == signal.SIGINT:
                raise KeyboardInterrupt
