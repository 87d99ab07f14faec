"""Kubernetes resource quantities (``500m``, ``1Gi``, ``1e3``) with exact arithmetic.

The apiserver stores quantities in canonical form, so ``cpu: "0.5"`` reads back as ``500m``
and ``1024Mi`` as ``1Gi``; the scheduler compares requests against allocatable exactly.  A
quantity is kept here as an integer number of nano-units plus the *format* its suffix implied
(decimal SI, binary SI or decimal exponent), which is all ``resource.Quantity`` needs to
canonicalise: values finer than 1n are rounded up (away from zero) as Kubernetes does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import total_ordering
from typing import Any

__all__ = [
    "BINARY_SI",
    "DECIMAL_EXPONENT",
    "DECIMAL_SI",
    "FORMAT_ERROR",
    "Quantity",
    "QuantityError",
    "canonical_quantity",
    "canonicalize_object_quantities",
    "canonicalize_resource_list",
    "compare_quantities",
    "parse_quantity",
    "sum_quantities",
]

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
FORMAT_ERROR = f"quantities must match the regular expression '{_SPLIT_RE}'"
NUMERIC_ERROR = "unable to parse numeric part of quantity"
SUFFIX_ERROR = "unable to parse quantity's suffix"

# What the Go scanner accepts before interpreting the suffix.
_SCAN = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[-+]?[0-9]*)$")

_DECIMAL_SUFFIXES = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_EXP = {v // 10: k for k, v in _BINARY_SUFFIXES.items()}

_NANO = 10**9
_MAX_INT64 = 2**63 - 1


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity; ``path`` names the field when known."""

    def __init__(self, message: str, path: str = "", value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.value = value


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    """``(base, exponent, format)`` for a suffix, or ``QuantityError``."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?[0-9]+", suffix[1:]):
        return 10, int(suffix[1:]), DECIMAL_EXPONENT
    raise QuantityError(SUFFIX_ERROR)


def _ceil_abs(value: Fraction) -> int:
    """Round away from zero to an integer (inf.RoundUp)."""
    return math.ceil(value) if value >= 0 else -math.ceil(-value)


@total_ordering
@dataclass(frozen=True, eq=False)
class Quantity:
    """An exact quantity: ``nanos`` (value * 10**9) and the serialisation ``format``."""

    nanos: int
    format: str = DECIMAL_SI

    # construction ---------------------------------------------------------------
    @classmethod
    def parse(cls, value: str | int | float | Quantity) -> Quantity:
        """Parse a quantity string (or a JSON number); raises ``QuantityError``."""
        return parse_quantity(value)

    @classmethod
    def from_fraction(cls, value: Fraction | int, fmt: str = DECIMAL_SI) -> Quantity:
        """An exact value, rounded up to nano precision."""
        return cls(_ceil_abs(Fraction(value) * _NANO), fmt)

    # views ----------------------------------------------------------------------
    @property
    def value(self) -> Fraction:
        """The exact numeric value."""
        return Fraction(self.nanos, _NANO)

    def as_decimal(self) -> Decimal:
        """The exact value as a ``Decimal``."""
        return Decimal(self.nanos).scaleb(-9).normalize()

    def as_int(self) -> int:
        """``Quantity.Value()``: the value rounded up to an integer."""
        return _ceil_abs(self.value)

    def milli_value(self) -> int:
        """``Quantity.MilliValue()``: thousandths, rounded up (CPU accounting)."""
        return _ceil_abs(Fraction(self.nanos, 10**6))

    def __float__(self) -> float:
        return self.nanos / _NANO

    def is_zero(self) -> bool:
        """True for any spelling of zero."""
        return self.nanos == 0

    # arithmetic -----------------------------------------------------------------
    def _coerce(self, other: Any) -> Quantity | None:
        if isinstance(other, Quantity):
            return other
        if isinstance(other, str | int | float) and not isinstance(other, bool):
            return parse_quantity(other)
        return None

    def __add__(self, other: Any) -> Quantity:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        fmt = o.format if self.nanos == 0 else self.format
        return Quantity(self.nanos + o.nanos, fmt)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Quantity:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        fmt = o.format if self.nanos == 0 else self.format
        return Quantity(self.nanos - o.nanos, fmt)

    def __neg__(self) -> Quantity:
        return Quantity(-self.nanos, self.format)

    def __eq__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self.nanos == o.nanos

    def __lt__(self, other: Any) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self.nanos < o.nanos

    def __hash__(self) -> int:
        return hash(self.nanos)

    # canonical form -------------------------------------------------------------
    def __str__(self) -> str:
        return self.canonical()

    def __repr__(self) -> str:
        return f"Quantity({self.canonical()!r})"

    def canonical(self) -> str:
        """The string the apiserver stores: no fraction, largest exponent, same format family."""
        n = self.nanos
        if n == 0:
            return "0"
        fmt = self.format
        if fmt == BINARY_SI:
            if -1024 * _NANO < n < 1024 * _NANO or n % _NANO:
                fmt = DECIMAL_SI
            else:
                mantissa, exp = n // _NANO, 0
                while abs(mantissa) >= 1024 and mantissa % 1024 == 0 and exp < 6:
                    mantissa //= 1024
                    exp += 1
                return f"{mantissa}{_BINARY_BY_EXP.get(exp, '')}"
        mantissa, exp = n, -9
        while mantissa % 10 == 0:
            mantissa //= 10
            exp += 1
        while exp % 3:
            mantissa *= 10
            exp -= 1
        if fmt == DECIMAL_EXPONENT:
            return f"{mantissa}" if exp == 0 else f"{mantissa}e{exp}"
        while exp > 18:
            mantissa *= 1000
            exp -= 3
        return f"{mantissa}{_DECIMAL_BY_EXP[exp]}"


def parse_quantity(value: str | int | float | Quantity) -> Quantity:
    """Parse ``"500m"``, ``"1Gi"``, ``"1e3"``, ``0.5`` … exactly as ``resource.ParseQuantity``.

    JSON numbers are accepted because a YAML ``cpu: 1`` arrives as a number.  Raises
    ``QuantityError`` (a ``ValueError``) whose message is the apiserver's.
    """
    if isinstance(value, Quantity):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise QuantityError(FORMAT_ERROR, value=value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError(FORMAT_ERROR, value=value)
        text = repr(value)
    else:
        # Quantity.UnmarshalJSON trims surrounding whitespace from quoted values.
        text = str(value).strip()
    if not text:
        raise QuantityError(FORMAT_ERROR, value=value)
    if text == "0":
        return Quantity(0, DECIMAL_SI)
    m = _SCAN.match(text)
    if not m:
        raise QuantityError(FORMAT_ERROR, value=value)
    sign, whole, frac, suffix = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    base, exponent, fmt = _interpret_suffix(suffix)
    try:
        number = Decimal(f"{whole or '0'}.{frac or '0'}")
    except InvalidOperation as e:  # pragma: no cover - the regex admits only digits
        raise QuantityError(NUMERIC_ERROR, value=value) from e
    amount = Fraction(number)
    amount *= Fraction(base) ** exponent
    nanos = math.ceil(amount * _NANO)  # magnitude, rounded up to 1n
    if fmt == BINARY_SI and nanos > _MAX_INT64 * _NANO:
        nanos = _MAX_INT64 * _NANO
    if fmt == BINARY_SI and 0 < nanos < _NANO:
        fmt = DECIMAL_SI
    return Quantity(-nanos if sign == "-" else nanos, fmt)


def canonical_quantity(value: str | int | float | Quantity) -> str:
    """Shorthand: parse and print canonically (``"0.5"`` → ``"500m"``)."""
    return parse_quantity(value).canonical()


def compare_quantities(a: str | int | float | Quantity, b: str | int | float | Quantity) -> int:
    """-1, 0 or 1 as ``Quantity.Cmp``."""
    qa, qb = parse_quantity(a), parse_quantity(b)
    return (qa.nanos > qb.nanos) - (qa.nanos < qb.nanos)


def sum_quantities(values: Iterable[str | int | float | Quantity]) -> Quantity:
    """Sum of quantities; the format follows the first non-zero term (``Quantity.Add``)."""
    total = Quantity(0, DECIMAL_SI)
    for v in values:
        total = total + parse_quantity(v)
    return total


def canonicalize_resource_list(resources: Mapping[str, Any] | None, path: str = "") -> dict:
    """A ``ResourceList`` with every value in canonical form; ``QuantityError.path`` names
    the offending entry (``spec.containers[0].resources.requests[cpu]``)."""
    out: dict[str, Any] = {}
    for name, raw in (resources or {}).items():
        try:
            out[name] = canonical_quantity(raw)
        except QuantityError as e:
            raise QuantityError(e.message, f"{path}[{name}]", raw) from None
    return out


_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _canon_pod_spec(spec: dict, path: str) -> None:
    for list_name in _CONTAINER_LISTS:
        for i, c in enumerate(spec.get(list_name) or []):
            if not isinstance(c, dict) or not isinstance(c.get("resources"), dict):
                continue
            res = c["resources"]
            for part in ("requests", "limits"):
                if isinstance(res.get(part), dict):
                    res[part] = canonicalize_resource_list(
                        res[part], f"{path}.{list_name}[{i}].resources.{part}"
                    )
    if isinstance(spec.get("overhead"), dict):
        spec["overhead"] = canonicalize_resource_list(spec["overhead"], f"{path}.overhead")
    for i, vol in enumerate(spec.get("volumes") or []):
        empty_dir = vol.get("emptyDir") if isinstance(vol, dict) else None
        if isinstance(empty_dir, dict) and empty_dir.get("sizeLimit") is not None:
            p = f"{path}.volumes[{i}].emptyDir.sizeLimit"
            try:
                empty_dir["sizeLimit"] = canonical_quantity(empty_dir["sizeLimit"])
            except QuantityError as e:
                raise QuantityError(e.message, p, empty_dir["sizeLimit"]) from None


def _canon_pvc_spec(spec: dict, path: str) -> None:
    res = spec.get("resources")
    if isinstance(res, dict):
        for part in ("requests", "limits"):
            if isinstance(res.get(part), dict):
                res[part] = canonicalize_resource_list(res[part], f"{path}.resources.{part}")


def _canon_maps(obj: dict, base: str, keys: Iterable[str]) -> None:
    section = obj.get(base)
    if not isinstance(section, dict):
        return
    for k in keys:
        if isinstance(section.get(k), dict):
            section[k] = canonicalize_resource_list(section[k], f"{base}.{k}")


def canonicalize_object_quantities(obj: Mapping[str, Any]) -> dict:
    """A copy of ``obj`` with the quantities of known kinds in canonical form.

    Covers container requests/limits in pods and pod templates (StatefulSet, Deployment,
    ReplicaSet, DaemonSet, Job, PodTemplate), volume claim templates, PVC requests and
    capacity, PV capacity and node capacity/allocatable.  Raises ``QuantityError`` with
    ``path`` set; the input is not modified.
    """
    from localkube.apimachinery.meta import deep_copy

    out: dict = deep_copy(dict(obj))
    kind = out.get("kind")
    spec = out.get("spec") if isinstance(out.get("spec"), dict) else None
    if spec is None:
        return out
    if kind == "Pod":
        _canon_pod_spec(spec, "spec")
        status = out.get("status")
        if isinstance(status, dict):
            for i, cs in enumerate(status.get("containerStatuses") or []):
                if isinstance(cs, dict) and isinstance(cs.get("allocatedResources"), dict):
                    cs["allocatedResources"] = canonicalize_resource_list(
                        cs["allocatedResources"],
                        f"status.containerStatuses[{i}].allocatedResources",
                    )
    elif kind == "PersistentVolumeClaim":
        _canon_pvc_spec(spec, "spec")
        _canon_maps(out, "status", ("capacity", "allocatedResources"))
    elif kind == "PersistentVolume":
        if isinstance(spec.get("capacity"), dict):
            spec["capacity"] = canonicalize_resource_list(spec["capacity"], "spec.capacity")
    elif kind == "Node":
        _canon_maps(out, "status", ("capacity", "allocatable"))
    else:
        template = spec.get("template")
        if kind == "CronJob":
            job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
            template = job_spec.get("template")
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            _canon_pod_spec(template["spec"], "spec.template.spec")
        for i, vct in enumerate(spec.get("volumeClaimTemplates") or []):
            if isinstance(vct, dict) and isinstance(vct.get("spec"), dict):
                _canon_pvc_spec(vct["spec"], f"spec.volumeClaimTemplates[{i}].spec")
    return out
