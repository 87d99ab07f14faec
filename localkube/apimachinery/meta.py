"""Object-metadata helpers shared by the store, controllers and printers.

Timestamps travel as RFC 3339 strings (``metav1.Time`` has second precision, ``MicroTime``
microseconds); ages are printed with kubectl's ``duration.HumanDuration`` so that
``kubectl get`` columns read as on a real cluster; owner references decide adoption and
garbage collection.  Objects are plain JSON dicts, so copying and comparing follow JSON rules.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "controller_of",
    "deep_copy",
    "format_micro_time",
    "format_rfc3339",
    "format_time",
    "get_in",
    "human_age",
    "human_duration",
    "is_controlled_by",
    "json_equal",
    "new_controller_ref",
    "new_uid",
    "now_rfc3339",
    "now_rfc3339_micro",
    "owner_references",
    "parse_rfc3339",
    "short_human_duration",
    "split_api_version",
    "to_datetime",
    "translate_timestamp_since",
]


# ------------------------------------------------------------------------- timestamps


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def format_rfc3339(dt: datetime, *, micro: bool = False) -> str:
    """``2024-05-01T10:00:00Z`` (``metav1.Time``) or with 6 fractional digits (``MicroTime``)."""
    dt = _utc(dt)
    if micro:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_time(value: datetime | float | int) -> str:
    """A ``metav1.Time`` string from a datetime or epoch seconds (``2024-05-01T10:00:00Z``)."""
    return format_rfc3339(to_datetime(value))


def format_micro_time(value: datetime | float | int) -> str:
    """A ``metav1.MicroTime`` string from a datetime or epoch seconds."""
    return format_rfc3339(to_datetime(value), micro=True)


def now_rfc3339(now: datetime | None = None) -> str:
    """The current time as the apiserver stamps ``creationTimestamp`` (seconds, ``Z``)."""
    return format_rfc3339(now or datetime.now(UTC))


def now_rfc3339_micro(now: datetime | None = None) -> str:
    """The current time as a ``MicroTime`` (events' ``eventTime``, leases)."""
    return format_rfc3339(now or datetime.now(UTC), micro=True)


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: str) -> datetime:
    """Parse RFC 3339 (any number of fractional digits, ``Z`` or an offset) to aware UTC.

    Raises ``ValueError`` for anything else.
    """
    m = _RFC3339.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac = (m.group(7) or "")[:6].ljust(6, "0")
    zone = m.group(8)
    dt = datetime(year, month, day, hour, minute, second, int(frac), tzinfo=UTC)
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        dt -= sign * offset
    return dt


def to_datetime(value: datetime | str | float | int) -> datetime:
    """Accept a datetime, an RFC 3339 string or epoch seconds; return aware UTC."""
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, str):
        return parse_rfc3339(value)
    return datetime.fromtimestamp(float(value), UTC)


# ---------------------------------------------------------------------------- durations


def _seconds(d: timedelta | float | int) -> float:
    return d.total_seconds() if isinstance(d, timedelta) else float(d)


def human_duration(d: timedelta | float | int) -> str:
    """kubectl's ``duration.HumanDuration``: 2-3 significant figures.

    ``45s``, ``119s``, ``5m3s``, ``10m``, ``179m``, ``3h``, ``2h10m``, ``47h``, ``3d4h``, ``9d``,
    ``400d``, ``2y35d``, ``8y``; slightly negative values (clock skew under 2 s) read ``0s``,
    more negative ones ``<invalid>``.
    """
    secs = _seconds(d)
    whole = int(secs)  # truncates toward zero, like Go's int(d.Seconds())
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        s = whole % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


human_age = human_duration


def short_human_duration(d: timedelta | float | int) -> str:
    """kubectl's ``duration.ShortHumanDuration`` (one unit: ``45s``, ``5m``, ``3h``, ``4d``,
    ``2y``)."""
    whole = int(_seconds(d))
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    hours = whole // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def translate_timestamp_since(
    timestamp: str | datetime | None, now: datetime | str | float | None = None
) -> str:
    """Printers' ``translateTimestampSince``: ``<unknown>`` for a missing time, else the
    human duration from ``timestamp`` to ``now``."""
    if not timestamp:
        return "<unknown>"
    try:
        then = to_datetime(timestamp)
    except ValueError:
        return "<unknown>"
    current = to_datetime(now) if now is not None else datetime.now(UTC)
    return human_duration(current - then)


# ------------------------------------------------------------------------------ owners


def owner_references(obj: Mapping[str, Any]) -> list[dict]:
    """``metadata.ownerReferences`` (never ``None``)."""
    return list(((obj.get("metadata") or {}).get("ownerReferences")) or [])


def controller_of(obj: Mapping[str, Any]) -> dict | None:
    """The first owner reference with ``controller: true`` (``metav1.GetControllerOf``)."""
    for ref in owner_references(obj):
        if ref.get("controller") is True:
            return ref
    return None


def is_controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """Whether ``obj``'s controller reference points at ``owner``'s UID."""
    ref = controller_of(obj)
    uid = (owner.get("metadata") or {}).get("uid")
    return ref is not None and bool(uid) and ref.get("uid") == uid


def new_controller_ref(
    owner: Mapping[str, Any], api_version: str | None = None, kind: str | None = None
) -> dict:
    """A controller owner reference to ``owner`` (``metav1.NewControllerRef``), with
    ``blockOwnerDeletion: true`` as controllers set it."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": api_version or owner.get("apiVersion", ""),
        "kind": kind or owner.get("kind", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` → ``("apps", "v1")``; ``"v1"`` → ``("", "v1")``."""
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        return group, version
    return "", api_version


def new_uid() -> str:
    """A random RFC 4122 UID, as the apiserver assigns."""
    return str(uuid.uuid4())


# ------------------------------------------------------------------------- JSON values


def deep_copy(value: Any) -> Any:
    """Copy a JSON-like value (dicts, lists, scalars) so no mutable part is shared."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [deep_copy(v) for v in value]
    return value


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: unlike ``==``, ``true`` differs from ``1`` and ``1`` equals ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    return bool(a == b)


def get_in(obj: Any, *path: str | int, default: Any = None) -> Any:
    """``obj[p0][p1]…`` or ``default`` when any step is missing or of the wrong type."""
    cur = obj
    for p in path:
        if isinstance(p, int) and isinstance(cur, list):
            if not -len(cur) <= p < len(cur):
                return default
            cur = cur[p]
        elif isinstance(cur, Mapping) and p in cur:
            cur = cur[p]
        else:
            return default
        if cur is None:
            return default
    return cur
