"""Shared helpers for the server-side Table tests (`test_tables_*.py`): a fixed "now" for the
Age columns, timestamps relative to it, and a kind's column names.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from localkube.apiserver.tables import column_definitions

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(**kw: float) -> str:
    return (NOW - timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


def names(kind: str) -> list[str]:
    return [c["name"] for c in column_definitions(kind)]
