"""Lease (coordination.k8s.io/v1): MicroTime decoding and ValidateLeaseSpec.

`acquireTime` and `renewTime` are metav1.MicroTime, which kube-apiserver parses with the
exact layout `2006-01-02T15:04:05.000000Z07:00`: six fractional digits, or the body is a
400 (Python's `isoformat()` drops the fraction when it is zero, so clients do hit this).
Stored and served in UTC, as MicroTime marshals.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from localkube.apimachinery import errors as E
from localkube.registry.strategies.base import Strategy

MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"
MICRO_TIME_FIELDS = ("acquireTime", "renewTime")
_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_FRACTION = re.compile(r"\.\d{6}")
_ZONE = re.compile(r"(Z|[+-]\d{2}:\d{2})")


def parse_micro_time(value: str) -> datetime:
    """Go's time.Parse(RFC3339Micro, value); ValueError carries Go's message."""
    def bad(rest: str, element: str) -> ValueError:
        return ValueError(f'parsing time "{value}" as "{MICRO_LAYOUT}": cannot parse '
                          f'"{rest}" as "{element}"')

    if not _SECONDS.match(value):
        raise bad(value, "2006")
    rest = value[19:]
    if not _FRACTION.match(rest):
        raise bad(rest, ".000000")
    zone = rest[7:]
    if not _ZONE.fullmatch(zone):
        raise bad(zone, "Z07:00")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f'parsing time "{value}": day or month out of range') from None


def format_micro_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseStrategy(Strategy):
    def default(self, obj: dict) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        for key in MICRO_TIME_FIELDS:
            value = spec.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise E.bad_request(f'Lease in version "v1" cannot be handled as a Lease: json: '
                                    f"cannot unmarshal {type(value).__name__} into Go struct "
                                    f"field LeaseSpec.spec.{key} of type string")
            try:
                spec[key] = format_micro_time(parse_micro_time(value))
            except ValueError as exc:
                raise E.bad_request(
                    f'Lease in version "v1" cannot be handled as a Lease: {exc}') from None

    def validate(self, obj: dict) -> list[dict]:
        spec: dict = obj.get("spec") or {}
        spec = spec if isinstance(spec, dict) else {}
        out: list[dict] = []
        duration, transitions = spec.get("leaseDurationSeconds"), spec.get("leaseTransitions")
        if isinstance(duration, int) and duration <= 0:
            out.append(E.field_invalid("spec.leaseDurationSeconds", duration,
                                       "must be greater than 0"))
        if isinstance(transitions, int) and transitions < 0:
            out.append(E.field_invalid("spec.leaseTransitions", transitions,
                                       "must be greater than or equal to 0"))
        return out
