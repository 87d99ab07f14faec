"""List/watch filtering: label and field selectors turned into one predicate over objects."""

from __future__ import annotations

from collections.abc import Callable

from localkube.apimachinery import selectors
from localkube.resources import Resource

Predicate = Callable[[dict], bool]


def _always(_: dict) -> bool:
    return True


def predicate(res: Resource, label_selector: str | None, field_selector: str | None) -> Predicate:
    """Parse both selectors once (400 on bad syntax) and return a cheap matcher."""
    labels = selectors.parse_label_selector(label_selector) if label_selector else None
    fields = selectors.parse_field_selector(field_selector, res.kind) if field_selector else None
    if labels is None and fields is None:
        return _always

    def matches(obj: dict) -> bool:
        if labels is not None and not labels.matches(obj.get("metadata", {}).get("labels") or {}):
            return False
        return fields is None or fields.matches(obj)

    return matches
