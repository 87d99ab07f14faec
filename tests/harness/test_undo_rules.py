"""The undo rules: only what this run cordoned, patched or removed is put back, and only
while nobody changed it since (intent, then applied; conflicts; retries).

Pure: a ``MemoryStore`` journal and fake nodes, StatefulSets and pods stand in for the API.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.faults import Faults
from harness.journal import (
    CORDONED_BY,
    Entry,
    Journal,
    MemoryStore,
    Owner,
)
from harness.kube.exec import ExecResult
from harness.kube.transport import ApiError
from harness.settings import Timeouts
from harness.undo import undoers


def journal(store: MemoryStore | None = None, run: str = "run1") -> Journal:
    return Journal(store or MemoryStore(), Owner.current(run))


# -- only what the harness cordoned is undone ---------------------------------------------------


class FakeNodes:
    """Nodes with annotations and resourceVersions (merge patches, 409 on a stale version),
    enough for ``Faults`` and ``undo_cordon``. ``conflicts`` fakes that many racing writers;
    ``on_patch`` runs before each patch is applied (someone else acting in between)."""

    namespace = "default"

    def __init__(self, **cordoned: bool) -> None:
        self.state = {n: {"unschedulable": c, "annotations": {}} for n, c in cordoned.items()}
        self.rv = 7
        self.versions = dict.fromkeys(self.state, "7")
        self.patches: list[tuple[str, dict]] = []
        self.conflicts = 0
        self.on_patch: Any = None

    def cordoned(self) -> dict[str, bool]:
        return {n: bool(s["unschedulable"]) for n, s in self.state.items()}

    def mark(self, name: str) -> str | None:
        return self.state[name]["annotations"].get(CORDONED_BY)

    def someone_cordons(self, name: str, annotations: dict | None = None) -> None:
        """``kubectl cordon`` by another party (kubectl sets no annotation)."""
        self.state[name]["unschedulable"] = True
        self.state[name]["annotations"].update(annotations or {})
        self._bump(name)

    def _bump(self, name: str) -> None:
        self.rv += 1
        self.versions[name] = str(self.rv)

    def node(self, name: str) -> dict | None:
        if name not in self.state:
            return None
        s = self.state[name]
        return {"metadata": {"name": name, "resourceVersion": self.versions[name],
                             "annotations": dict(s["annotations"])},
                "spec": {"unschedulable": True} if s["unschedulable"] else {}}

    def nodes(self) -> list[dict]:
        return [self.node(n) for n in sorted(self.state)]  # type: ignore[misc]

    def patch(self, _kind: Any, name: str, patch: dict, *_: Any) -> dict:
        if self.on_patch is not None:
            self.on_patch(name)
        path = f"/api/v1/nodes/{name}"
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if self.conflicts > 0:
            self.conflicts -= 1
            self._bump(name)
            raise ApiError("PATCH", path, 409, "Conflict", "the object has been modified")
        if wanted is not None and wanted != self.versions[name]:
            raise ApiError("PATCH", path, 409, "Conflict", "the object has been modified")
        self.patches.append((name, patch))
        s = self.state[name]
        for key, value in ((patch.get("metadata") or {}).get("annotations") or {}).items():
            if value is None:
                s["annotations"].pop(key, None)
            else:
                s["annotations"][key] = value
        s["unschedulable"] = bool(patch["spec"]["unschedulable"])
        self._bump(name)
        return self.node(name)  # type: ignore[return-value]


def faults(nodes: FakeNodes, store: MemoryStore, run: str = "r") -> Faults:
    return Faults(nodes, Journal(store, Owner.current(run)),  # type: ignore[arg-type]
                  container="zk", restart_command=("pkill", "java"), timeouts=Timeouts())


def test_a_node_cordoned_before_the_drill_stays_cordoned() -> None:
    nodes, store = FakeNodes(a=True, b=False), MemoryStore()
    f = faults(nodes, store)
    assert (f.cordon("a"), f.cordon("b")) == (False, True)
    assert [Entry.from_json(v).target for v in store.data.values()] == ["node/b"]
    f.restore_all()
    assert nodes.cordoned() == {"a": True, "b": False}
    assert store.data == {}


def test_uncordon_leaves_a_node_someone_else_cordoned() -> None:
    nodes = FakeNodes(a=True)
    f = faults(nodes, MemoryStore())
    assert f.uncordon("a") is False
    assert nodes.cordoned()["a"] is True and nodes.patches == []


def test_extra_nodes_are_cordoned_and_restored_keeping_the_preferred_ones() -> None:
    nodes, store = FakeNodes(n1=False, n2=False, n3=False, n4=False, n5=False, n6=True), \
        MemoryStore()
    f = faults(nodes, store)
    kept = f.cordon_all_but(3, prefer=["n5", "n2"])
    assert kept == ["n5", "n2", "n1"]
    assert {n for n, c in nodes.cordoned().items() if c} == {"n3", "n4", "n6"}
    assert len(store.data) == 2
    assert f.uncordon_all() == ["n3", "n4"]
    assert {n for n, c in nodes.cordoned().items() if c} == {"n6"}
    assert store.data == {}


def test_too_few_schedulable_nodes_is_said_plainly() -> None:
    f = faults(FakeNodes(a=False, b=True), MemoryStore())
    with pytest.raises(AssertionError, match="needs 4 schedulable nodes, the cluster has 1: a"):
        f.cordon_all_but(4)


def test_the_cordon_is_journaled_before_the_patch() -> None:
    nodes, store = FakeNodes(a=False), MemoryStore()
    f = faults(nodes, store)
    seen: list[int] = []
    original = nodes.patch

    def patch(*args: Any) -> dict:
        seen.append(len(store.data))
        return original(*args)

    nodes.patch = patch  # type: ignore[method-assign]
    f.cordon("a")
    assert seen == [1]
    assert nodes.patches[0][1]["metadata"] == {"resourceVersion": "7",
                                               "annotations": {CORDONED_BY: "r"}}


# -- intent, then applied; undo only what this run made ------------------------------------------


def intent(j: Journal, kind: str, target: str, undo: dict[str, Any]) -> Entry:
    """An entry as a run killed between the journal write and the API call leaves it."""
    return j.record(kind, target, undo)


def test_a_cordon_carries_the_run_and_is_marked_applied() -> None:
    nodes, store = FakeNodes(a=False), MemoryStore()
    f = faults(nodes, store, run="run-a")
    assert f.cordon("a") is True
    [entry] = f.journal.mine()
    assert nodes.mark("a") == "run-a"
    assert entry.applied == {"resourceVersion": nodes.versions["a"],
                             "annotation": {CORDONED_BY: "run-a"}}
    f.restore_all()
    assert nodes.cordoned() == {"a": False} and nodes.mark("a") is None
    assert store.data == {}


def test_undo_cordon_leaves_a_node_another_run_cordoned_since() -> None:
    nodes, store = FakeNodes(a=False), MemoryStore()
    f = faults(nodes, store, run="run-a")
    f.cordon("a")
    [entry] = f.journal.mine()
    nodes.state["a"]["unschedulable"] = False  # someone uncordoned it, then another run cordoned
    nodes.someone_cordons("a", {CORDONED_BY: "run-b"})
    outcome = f.journal.undo(entry, undoers(nodes, Timeouts()))  # type: ignore[arg-type]
    assert outcome.ok and "cordoned by run run-b, not by run run-a: left cordoned" in \
        outcome.detail
    assert nodes.cordoned() == {"a": True} and nodes.mark("a") == "run-b"
    assert store.data == {}  # closed: nothing of ours to undo


def test_an_intent_never_applied_leaves_someone_elses_cordon() -> None:
    nodes, store = FakeNodes(a=False), MemoryStore()
    killed = Journal(store, Owner("killed", "elsewhere", 1))
    intent(killed, "cordon", "node/a", {"node": "a"})  # killed before the patch
    nodes.someone_cordons("a")  # kubectl cordon: no annotation
    outcomes = journal(store, "next").undo_all(journal(store).entries(),
                                               undoers(nodes, Timeouts()))  # type: ignore[arg-type]
    assert [o.ok for o in outcomes] == [True]
    assert f"without {CORDONED_BY}" in outcomes[0].detail
    assert "stopped before its cordon patch" in outcomes[0].detail
    assert nodes.cordoned() == {"a": True} and nodes.patches == []
    assert store.data == {}


def test_an_intent_whose_patch_landed_is_undone_by_the_mark() -> None:
    nodes, store = FakeNodes(a=False), MemoryStore()
    killed = Journal(store, Owner("killed", "elsewhere", 1))
    intent(killed, "cordon", "node/a", {"node": "a"})
    nodes.someone_cordons("a", {CORDONED_BY: "killed"})  # the patch went through, then SIGKILL
    [outcome] = killed.undo_all(killed.entries(), undoers(nodes, Timeouts()))  # type: ignore[arg-type]
    assert outcome.ok and outcome.detail == "node/a uncordoned"
    assert nodes.cordoned() == {"a": False} and nodes.mark("a") is None


def test_a_conflict_on_the_cordon_drops_the_entry_and_the_other_cordon_stays() -> None:
    nodes, store = FakeNodes(a=False), MemoryStore()
    f = faults(nodes, store)

    def race(name: str) -> None:  # someone cordons between our read and our patch
        nodes.on_patch = None
        nodes.someone_cordons(name)

    nodes.on_patch = race
    assert f.cordon("a") is False
    assert store.data == {} and nodes.cordoned() == {"a": True}
    f.restore_all()
    assert nodes.cordoned() == {"a": True}


def test_a_conflict_from_an_unrelated_change_is_tried_again() -> None:
    nodes, store = FakeNodes(a=False), MemoryStore()
    nodes.conflicts = 1  # a node status update between our read and our patch
    f = faults(nodes, store)
    assert f.cordon("a") is True
    assert len(store.data) == 1 and nodes.mark("a") == "r"


def test_uncordon_retries_a_conflict() -> None:
    nodes, store = FakeNodes(a=False), MemoryStore()
    f = faults(nodes, store)
    f.cordon("a")
    nodes.conflicts = 2
    assert f.uncordon("a") is True
    assert nodes.cordoned() == {"a": False} and store.data == {}


class FakeStatefulSets:
    namespace = "default"

    def __init__(self, template: dict) -> None:
        self.template = template
        self.rv = 1
        self.patches: list[dict] = []

    def statefulset(self, _name: str) -> dict:
        return {"metadata": {"resourceVersion": str(self.rv)},
                "spec": {"template": self.template}}

    def patch(self, _kind: Any, _name: str, body: dict, patch_type: str) -> dict:
        assert patch_type == "strategic"
        if body["metadata"]["resourceVersion"] != str(self.rv):
            raise ApiError("PATCH", "sts", 409, "Conflict", "modified")
        self.patches.append(body)
        self.template = {k: v for k, v in body["spec"]["template"].items() if k != "$patch"}
        self.rv += 1
        return self.statefulset(_name)


ORIGINAL = {"spec": {"containers": [{"name": "zk", "image": "zk:1"}]}}
PATCHED = {"spec": {"containers": [{"name": "zk", "image": "zk:2"}]}}
THEIRS = {"spec": {"containers": [{"name": "zk", "image": "zk:3"}]}}


def template_entry(store: MemoryStore, *, applied: bool) -> tuple[Journal, Entry]:
    j = Journal(store, Owner("killed", "elsewhere", 1))
    entry = j.record("template", "statefulset/default/zk",
                     {"statefulset": "zk", "template": ORIGINAL, "patched": PATCHED})
    if applied:
        entry = j.mark_applied(entry, {"template": PATCHED, "resourceVersion": "2"})
    return j, entry


@pytest.mark.parametrize("applied", [True, False])
def test_undo_template_restores_the_patched_form_it_recorded(applied: bool) -> None:
    store = MemoryStore()
    j, entry = template_entry(store, applied=applied)
    sts = FakeStatefulSets(PATCHED)
    outcome = j.undo(entry, undoers(sts, Timeouts()))  # type: ignore[arg-type]
    assert outcome.ok and "restored as recorded" in outcome.detail
    assert sts.template == ORIGINAL and store.data == {}
    assert sts.patches[0]["metadata"] == {"resourceVersion": "1"}


@pytest.mark.parametrize("applied", [True, False])
def test_undo_template_leaves_a_template_someone_changed_since(applied: bool) -> None:
    store = MemoryStore()
    j, entry = template_entry(store, applied=applied)
    sts = FakeStatefulSets(THEIRS)
    outcome = j.undo(entry, undoers(sts, Timeouts()))  # type: ignore[arg-type]
    assert outcome.ok and "left as it is" in outcome.detail
    assert ("stopped before its patch" in outcome.detail) is not applied
    assert sts.template == THEIRS and sts.patches == [] and store.data == {}


def test_undo_template_of_an_intent_never_applied_does_nothing() -> None:
    store = MemoryStore()
    j, entry = template_entry(store, applied=False)
    sts = FakeStatefulSets(ORIGINAL)
    outcome = j.undo(entry, undoers(sts, Timeouts()))  # type: ignore[arg-type]
    assert outcome.ok and "already as recorded" in outcome.detail
    assert sts.patches == [] and store.data == {}


class FakePod:
    """One pod whose container restarts when the restart command is exec'd in it."""

    namespace = "default"

    def __init__(self, *, file_there: bool, container_id: str = "c1") -> None:
        self.file_there = file_there
        self.container_id = container_id
        self.commands: list[list[str]] = []

    def pod(self, name: str) -> dict:
        return {"metadata": {"name": name, "uid": "u1"},
                "status": {"containerStatuses": [
                    {"name": "zk", "containerID": self.container_id,
                     "state": {"running": {}}, "restartCount": 0}]}}

    def exec(self, pod: str, command: list[str], **_: Any) -> ExecResult:
        self.commands.append(list(command))
        if command[0] == "test":
            return ExecResult(pod, tuple(command), 0 if self.file_there else 1, "", "")
        if command[0] == "pkill":
            self.container_id, self.file_there = "c2", True  # restarted from the image
        return ExecResult(pod, tuple(command), 0, "", "")


def script_entry(store: MemoryStore, *, applied: bool) -> tuple[Journal, Entry]:
    j = Journal(store, Owner("killed", "elsewhere", 1))
    entry = j.record("script", "pod/default/zk-0:/usr/bin/zookeeper-ready", {
        "pod": "zk-0", "uid": "u1", "container": "zk", "path": "/usr/bin/zookeeper-ready",
        "container_id": "c1", "restart_command": ["pkill", "java"], "budget": 0.0,
        "labels": {}})
    if applied:
        entry = j.mark_applied(entry, {"container_id": "c1"})
    return j, entry


@pytest.mark.parametrize("applied", [True, False])
def test_undo_script_restarts_nothing_when_the_file_is_there(applied: bool) -> None:
    store = MemoryStore()
    j, entry = script_entry(store, applied=applied)
    pod = FakePod(file_there=True)
    outcome = j.undo(entry, undoers(pod, Timeouts()))  # type: ignore[arg-type]
    assert outcome.ok and "nothing restarted" in outcome.detail
    assert [c[0] for c in pod.commands] == ["test"] and pod.container_id == "c1"
    assert store.data == {}


def test_undo_script_restarts_the_container_when_the_file_is_missing() -> None:
    store = MemoryStore()
    j, entry = script_entry(store, applied=True)
    pod = FakePod(file_there=False)
    outcome = j.undo(entry, undoers(pod, Timeouts()))  # type: ignore[arg-type]
    assert outcome.ok and "`pkill java` did" in outcome.detail, outcome.detail
    assert ["pkill", "java"] in pod.commands and pod.file_there
    assert store.data == {}


def test_undo_script_after_a_restart_only_checks_the_file() -> None:
    store = MemoryStore()
    j, entry = script_entry(store, applied=True)
    pod = FakePod(file_there=True, container_id="c9")  # liveness restarted it already
    outcome = j.undo(entry, undoers(pod, Timeouts()))  # type: ignore[arg-type]
    assert outcome.ok and "had been restarted" in outcome.detail
    assert [c[0] for c in pod.commands] == ["test"]
