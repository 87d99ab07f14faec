"""Field selectors: selectable fields per kind, ``FieldSelector`` and its parser."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from localkube.apimachinery.selectorsyntax import SelectorSyntaxError

# ----------------------------------------------------------------------------- fields

# Field labels each kind supports beyond metadata.name/metadata.namespace.
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "Node": ("spec.unschedulable",),
    "Namespace": ("status.phase",),
    "Secret": ("type",),
}
_FIELD_ALIASES = {("Pod", "spec.host"): "spec.nodeName"}
_BOOLEAN_FIELDS = frozenset({"spec.hostNetwork", "spec.unschedulable"})
_RESOURCE_KINDS = {
    "pods": "Pod",
    "pod": "Pod",
    "events": "Event",
    "event": "Event",
    "nodes": "Node",
    "node": "Node",
    "namespaces": "Namespace",
    "namespace": "Namespace",
    "secrets": "Secret",
    "secret": "Secret",
}


def _kind(kind: str | None) -> str:
    if not kind:
        return ""
    return _RESOURCE_KINDS.get(kind.lower(), kind)


def supported_fields(kind: str | None) -> frozenset[str]:
    """Field labels a kind (``Pod``) or resource (``pods``) accepts in ``fieldSelector``."""
    return frozenset(("metadata.name", "metadata.namespace", *_KIND_FIELDS.get(_kind(kind), ())))


def _get(obj: Mapping[str, Any], path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_set(obj: Mapping[str, Any], kind: str | None = None) -> dict[str, str]:
    """The selectable fields of an object, rendered as the apiserver renders them
    (booleans as ``true``/``false``, absent values as ``""``)."""
    k = _kind(kind or obj.get("kind"))
    meta = obj.get("metadata") or {}
    out = {
        "metadata.name": _str(meta.get("name")),
        "metadata.namespace": _str(meta.get("namespace")),
    }
    if k == "Pod":
        for f in _KIND_FIELDS["Pod"]:
            out[f] = _str(_get(obj, f))
        out["spec.hostNetwork"] = _str(bool(_get(obj, "spec.hostNetwork")))
        ips = _get(obj, "status.podIPs") or []
        out["status.podIP"] = _str(ips[0].get("ip")) if ips else _str(_get(obj, "status.podIP"))
    elif k == "Event":
        for f in _KIND_FIELDS["Event"]:
            out[f] = _str(_get(obj, f))
        source = _get(obj, "source.component") or obj.get("reportingComponent") or ""
        out["source"] = _str(source)
        out["reportingComponent"] = _str(obj.get("reportingComponent"))
    elif k == "Node":
        out["spec.unschedulable"] = _str(bool(_get(obj, "spec.unschedulable")))
    elif k in _KIND_FIELDS:
        for f in _KIND_FIELDS[k]:
            out[f] = _str(_get(obj, f))
    return out


@dataclass(frozen=True)
class FieldTerm:
    """``field=value`` (``equal=True``) or ``field!=value``."""

    field: str
    value: str
    equal: bool = True

    def matches(self, fields: Mapping[str, str]) -> bool:
        actual = fields.get(self.field, "")
        wanted = self.value
        if self.field in _BOOLEAN_FIELDS:
            actual, wanted = actual.lower(), wanted.lower()
        return (actual == wanted) == self.equal

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.field}{'=' if self.equal else '!='}{escaped}"


class FieldSelector:
    """AND of ``field=value`` / ``field!=value`` terms."""

    __slots__ = ("kind", "terms")

    def __init__(self, terms: Iterable[FieldTerm] = (), kind: str | None = None) -> None:
        self.terms: tuple[FieldTerm, ...] = tuple(terms)
        self.kind = _kind(kind) or None

    @property
    def empty(self) -> bool:
        """True when the selector matches everything."""
        return not self.terms

    def validate(self, kind: str | None) -> FieldSelector:
        """Check each field label is supported for ``kind`` (400 ``field label not supported``)
        and apply aliases such as ``spec.host`` → ``spec.nodeName``."""
        k = _kind(kind)
        allowed = supported_fields(k)
        out: list[FieldTerm] = []
        for t in self.terms:
            name = _FIELD_ALIASES.get((k, t.field), t.field)
            if name not in allowed:
                raise SelectorSyntaxError(f"field label not supported: {t.field}")
            out.append(FieldTerm(name, t.value, t.equal))
        return FieldSelector(out, k)

    def matches_fields(self, fields: Mapping[str, str]) -> bool:
        """Match against an already-computed field set."""
        return all(t.matches(fields) for t in self.terms)

    def matches(self, obj: Mapping[str, Any], kind: str | None = None) -> bool:
        """Match against an object's selectable fields (kind: the argument, else the one the
        selector was validated for, else ``obj["kind"]``)."""
        if not self.terms:
            return True
        return self.matches_fields(field_set(obj, kind or self.kind))

    def requires_exact_match(self, field: str) -> str | None:
        """The value ``field`` must equal, if a ``field=value`` term pins it."""
        for t in self.terms:
            if t.field == field and t.equal:
                return t.value
        return None

    def __str__(self) -> str:
        return ",".join(str(t) for t in self.terms)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSelector) and self.terms == other.terms

    def __hash__(self) -> int:
        return hash(self.terms)


def _split_terms(selector: str) -> list[str]:
    terms: list[str] = []
    start = 0
    escaped = False
    for i, ch in enumerate(selector):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


def _unescape(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise SelectorSyntaxError(
                    f"invalid field selector: invalid escape sequence: \\{ch}"
                )
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise SelectorSyntaxError(
                f"invalid field selector: unescaped character in value: {ord(ch)}"
            )
        else:
            out.append(ch)
    if escaped:
        raise SelectorSyntaxError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(selector: str | None, kind: str | None = None) -> FieldSelector:
    """Parse a ``fieldSelector`` (``spec.nodeName=n1,status.phase!=Failed``).

    With ``kind`` the field labels are also validated for that kind.  Errors raise
    ``SelectorSyntaxError`` (400) with the apiserver's wording.
    """
    if not selector:
        return FieldSelector()
    terms: list[FieldTerm] = []
    for part in sorted(_split_terms(selector)):
        if not part:
            continue
        for i in range(len(part)):
            rest = part[i:]
            op = next((o for o in ("!=", "==", "=") if rest.startswith(o)), None)
            if op is not None:
                lhs, rhs = part[:i], part[i + len(op) :]
                terms.append(FieldTerm(lhs, _unescape(rhs), op != "!="))
                break
        else:
            raise SelectorSyntaxError(f"invalid selector: '{selector}'; can't understand '{part}'")
    result = FieldSelector(terms)
    return result.validate(kind) if kind else result
