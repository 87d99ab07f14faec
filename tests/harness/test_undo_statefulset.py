"""The durability drill's deletion is undone by creating the set again, and only if absent."""

from __future__ import annotations

from typing import Any

from harness.journal import Entry, Owner
from harness.undo import undo_statefulset_deletion

DOC = {"apiVersion": "apps/v1", "kind": "StatefulSet",
       "metadata": {"name": "zk", "namespace": "drills"}, "spec": {"replicas": 3}}


class FakeSets:
    def __init__(self, present: bool) -> None:
        self.present = present
        self.created: list[dict[str, Any]] = []

    def statefulset(self, name: str) -> dict[str, Any] | None:
        return DOC if self.present else None

    def create(self, _kind: Any, body: dict[str, Any]) -> dict[str, Any]:
        self.created.append(body)
        return body


def entry() -> Entry:
    return Entry("r-001", "statefulset", "statefulset/drills/zk", {"document": DOC},
                 Owner("r", "host", 1), applied={"deleted": "zk"})


def test_a_deleted_set_is_created_again_as_recorded() -> None:
    sets = FakeSets(present=False)
    said = undo_statefulset_deletion(sets, entry())  # type: ignore[arg-type]
    assert said == "statefulset zk created again as it was before the deletion"
    assert sets.created == [{**DOC, "metadata": {"name": "zk"}}]


def test_a_set_that_exists_again_is_left_alone() -> None:
    sets = FakeSets(present=True)
    assert "nothing to re-create" in undo_statefulset_deletion(sets, entry())  # type: ignore[arg-type]
    assert sets.created == []
