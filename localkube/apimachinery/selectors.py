"""Label and field selectors, with the apiserver's grammar, semantics and error messages.

Selectors decide what a list or watch returns, which pods a StatefulSet or PDB owns, and
which pods ``kubectl drain`` sees, so they must behave exactly like apimachinery's
``labels`` and ``fields`` packages: a requirement on a missing key, a ``null`` versus an empty
``metav1.LabelSelector``, ``!=`` matching objects without the label, and the 400 messages a
bad selector produces (kubectl prints them verbatim).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from localkube.apimachinery.errors import ApiError, bad_request

__all__ = [
    "FieldSelector",
    "FieldTerm",
    "LabelSelector",
    "Requirement",
    "SelectorSyntaxError",
    "field_set",
    "label_key_errors",
    "label_value_errors",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_api",
    "selector_matches",
    "selector_to_string",
    "supported_fields",
]

# Operators, spelled as in k8s.io/apimachinery/pkg/selection.
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
IN = "in"
NOT_IN = "notin"
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_VALID_OPERATORS = (*_BINARY_OPERATORS, EXISTS, DOES_NOT_EXIST)


class SelectorSyntaxError(ApiError, ValueError):
    """A selector the apiserver would reject with 400 BadRequest (also a ``ValueError``, so
    validation code can treat it like any other bad value)."""

    def __init__(self, message: str) -> None:
        err = bad_request(message)
        super().__init__(err.code, err.reason, err.message)


# ---------------------------------------------------------------- key/value validation

_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an"
    " alphanumeric character"
)
_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or"
    " '.', and must start and end with an alphanumeric character"
)
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or"
    " '.', and must start and end with an alphanumeric character"
)
_SUBDOMAIN_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    # Go's RegexError puts ", " after every example and " or " between them.
    shown = "".join((" or " if i else "") + f"'{e}', " for i, e in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def label_key_errors(key: str) -> list[str]:
    """Problems with a label key (an optional DNS-subdomain prefix, then a ≤63-char name)."""
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errs.append("prefix part must be no more than 253 bytes")
            if not _DNS1123_SUBDOMAIN.match(prefix):
                errs.append(
                    "prefix part " + _regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com")
                )
    else:
        return [
            "a valid label key "
            + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 bytes")
    if not _NAME_PART.match(name):
        errs.append(
            "name part " + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value_errors(value: str) -> list[str]:
    """Problems with a label value (empty, or ≤63 alphanumerics with ``-_.`` inside)."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append("must be no more than 63 bytes")
    if not _LABEL_VALUE.match(value):
        errs.append(_regex_error(_VALUE_MSG, f"({_NAME_FMT})?", "MyValue", "my_value", "12345"))
    return errs


def _quote(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'


def _field_error(path: str, value: str, detail: str) -> str:
    return f"{path}: Invalid value: {_quote(value)}: {detail}"


def _aggregate(errs: list[str]) -> str:
    unique: list[str] = []
    for e in errs:
        if e not in unique:
            unique.append(e)
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# ----------------------------------------------------------------------------- labels


def _is_int(s: str) -> bool:
    return bool(re.fullmatch(r"[+-]?[0-9]+", s)) and -(2**63) <= int(s) < 2**63


@dataclass(frozen=True)
class Requirement:
    """One ``key op values`` term; a selector is the AND of its requirements."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    @classmethod
    def new(cls, key: str, operator: str, values: Iterable[str] = ()) -> Requirement:
        """Validate like ``labels.NewRequirement`` and build the requirement."""
        vals = list(values)
        errs: list[str] = []
        key_errs = label_key_errors(key)
        if key_errs:
            errs.append(_field_error("key", key, "; ".join(key_errs)))
        shown = json.dumps(vals or None, separators=(",", ":"))
        if operator in (IN, NOT_IN):
            if not vals:
                errs.append(
                    f"values: Invalid value: {shown}: for 'in', 'notin' operators, values set"
                    " can't be empty"
                )
        elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
            if len(vals) != 1:
                errs.append(
                    f"values: Invalid value: {shown}: exact-match compatibility requires one"
                    " single value"
                )
        elif operator in (EXISTS, DOES_NOT_EXIST):
            if vals:
                errs.append(
                    f"values: Invalid value: {shown}: values set must be empty for exists and"
                    " does not exist"
                )
        elif operator in (GREATER_THAN, LESS_THAN):
            if len(vals) != 1:
                errs.append(
                    f"values: Invalid value: {shown}: for 'Gt', 'Lt' operators, exactly one"
                    " value is required"
                )
            for i, v in enumerate(vals):
                if not _is_int(v):
                    errs.append(
                        _field_error(
                            f"values[{i}]",
                            v,
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        )
                    )
        else:
            valid = ", ".join(_quote(o) for o in _VALID_OPERATORS)
            errs.append(
                f"operator: Unsupported value: {_quote(operator)}: supported values: {valid}"
            )
        for i, v in enumerate(vals):
            v_errs = label_value_errors(v)
            if v_errs:
                errs.append(_field_error(f"values[{i}][{key}]", v, "; ".join(v_errs)))
        if errs:
            raise SelectorSyntaxError(_aggregate(errs))
        return cls(key, operator, tuple(vals))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Match semantics of ``labels.Requirement.Matches`` (NotIn/!= match a missing key)."""
        op = self.operator
        present = self.key in labels
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if op == EXISTS:
            return present
        if op == DOES_NOT_EXIST:
            return not present
        if op in (GREATER_THAN, LESS_THAN):
            if not present or len(self.values) != 1:
                return False
            actual, wanted = labels[self.key], self.values[0]
            if not (_is_int(actual) and _is_int(wanted)):
                return False
            return int(actual) > int(wanted) if op == GREATER_THAN else int(actual) < int(wanted)
        return False

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        vals = sorted(self.values)
        if op in (IN, NOT_IN):
            return f"{self.key} {op} ({','.join(vals)})"
        sym = {GREATER_THAN: ">", LESS_THAN: "<"}.get(op, op)
        return f"{self.key}{sym}{','.join(vals)}"


class LabelSelector:
    """A label selector: the AND of requirements, or the special *nothing* selector.

    ``LabelSelector()`` (no requirements) matches everything; ``LabelSelector.nothing()``
    matches no object, which is what a ``null`` ``metav1.LabelSelector`` means for PDBs,
    StatefulSets and the like.
    """

    __slots__ = ("_nothing", "requirements")

    def __init__(self, requirements: Iterable[Requirement] = (), *, nothing: bool = False) -> None:
        self.requirements: tuple[Requirement, ...] = tuple(
            sorted(requirements, key=lambda r: r.key)
        )
        self._nothing = nothing

    # constructors -----------------------------------------------------------------
    @classmethod
    def everything(cls) -> LabelSelector:
        """Matches every object (the empty selector)."""
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        """Matches no object (a ``null`` ``metav1.LabelSelector``)."""
        return cls(nothing=True)

    @classmethod
    def parse(cls, selector: str | None) -> LabelSelector:
        """Parse the ``labelSelector`` query syntax; raises ``SelectorSyntaxError`` (400)."""
        return parse_label_selector(selector)

    @classmethod
    def from_set(cls, labels: Mapping[str, str] | None) -> LabelSelector:
        """``labels.SelectorFromSet``: ``k=v`` for each pair; ``None``/``{}`` match everything.

        Used for map selectors such as a Service's ``spec.selector``.
        """
        return cls(Requirement(k, EQUALS, (str(v),)) for k, v in (labels or {}).items())

    @classmethod
    def from_api(
        cls, selector: Mapping[str, Any] | None, *, null_matches: str = "nothing"
    ) -> LabelSelector:
        """Convert a ``metav1.LabelSelector`` dict (``LabelSelectorAsSelector``).

        ``None`` matches nothing by default (``null_matches="everything"`` flips that for the
        few consumers that treat a missing selector as "all"); ``{}`` matches everything.
        Raises ``SelectorSyntaxError`` for bad keys, values or operators.
        """
        if null_matches not in ("nothing", "everything"):
            raise ValueError("null_matches must be 'nothing' or 'everything'")
        if selector is None:
            return cls.nothing() if null_matches == "nothing" else cls.everything()
        reqs: list[Requirement] = []
        for k, v in (selector.get("matchLabels") or {}).items():
            reqs.append(Requirement.new(k, EQUALS, [str(v)]))
        ops = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}
        for expr in selector.get("matchExpressions") or []:
            op_name = expr.get("operator")
            if op_name not in ops:
                raise SelectorSyntaxError(f'"{op_name}" is not a valid label selector operator')
            reqs.append(
                Requirement.new(expr.get("key", ""), ops[op_name], list(expr.get("values") or []))
            )
        return cls(reqs)

    @classmethod
    def from_dict(
        cls, selector: Mapping[str, Any] | None, *, null_matches: str = "nothing"
    ) -> LabelSelector:
        """Alias of ``from_api``."""
        return cls.from_api(selector, null_matches=null_matches)

    # queries ------------------------------------------------------------------------
    @property
    def matches_nothing(self) -> bool:
        """True for the *nothing* selector."""
        return self._nothing

    @property
    def empty(self) -> bool:
        """True when the selector matches everything."""
        return not self._nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether a label map satisfies every requirement."""
        if self._nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj.metadata.labels`` satisfies the selector."""
        return self.matches(((obj.get("metadata") or {}).get("labels")) or {})

    def requires_exact_match(self, key: str) -> str | None:
        """The single value ``key`` must have (``=``, ``==`` or a one-value ``in``), if any."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        if self._nothing:
            return ""
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        if self._nothing:
            return "LabelSelector.nothing()"
        return f"LabelSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return self._nothing == other._nothing and self.requirements == other.requirements

    def __hash__(self) -> int:
        return hash((self._nothing, self.requirements))


# lexer ----------------------------------------------------------------------------------

_EOS, _IDENT, _COMMA, _OPEN, _CLOSE, _BANG, _EQ, _DEQ, _NEQ, _GT, _LT, _IN, _NOTIN = range(13)
_SYMBOLS = {
    "!=": _NEQ,
    "==": _DEQ,
    "=": _EQ,
    "!": _BANG,
    "(": _OPEN,
    ")": _CLOSE,
    ",": _COMMA,
    ">": _GT,
    "<": _LT,
}
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")


def _lex(text: str) -> list[tuple[int, str]]:
    """Split a selector into (token, literal) pairs ending with end-of-string."""
    out: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            out.append((_EOS, ""))
            return out
        ch = text[i]
        if ch in _SPECIAL:
            two = text[i : i + 2]
            if two in ("!=", "=="):
                out.append((_SYMBOLS[two], two))
                i += 2
            else:
                out.append((_SYMBOLS[ch], ch))
                i += 1
            continue
        j = i
        while j < n and text[j] not in _SPECIAL and text[j] not in _WHITESPACE:
            j += 1
        word = text[i:j]
        i = j
        out.append(({"in": _IN, "notin": _NOTIN}.get(word, _IDENT), word))


class _Parser:
    """Recursive-descent parser over the token list (``in``/``notin`` double as values)."""

    def __init__(self, text: str) -> None:
        self.toks = _lex(text)
        self.pos = 0

    def _get(self, values: bool, advance: bool) -> tuple[int, str]:
        tok, lit = self.toks[self.pos]
        if advance:
            self.pos += 1
        if values and tok in (_IN, _NOTIN):
            tok = _IDENT
        return tok, lit

    def peek(self, values: bool = True) -> tuple[int, str]:
        return self._get(values, False)

    def take(self, values: bool = True) -> tuple[int, str]:
        return self._get(values, True)

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.peek()
            if tok in (_IDENT, _BANG):
                try:
                    reqs.append(self.requirement())
                except SelectorSyntaxError as e:
                    raise SelectorSyntaxError(f"unable to parse requirement: {e.message}") from None
                tok, lit = self.take()
                if tok == _EOS:
                    return reqs
                if tok == _COMMA:
                    tok2, lit2 = self.peek()
                    if tok2 not in (_IDENT, _BANG):
                        raise SelectorSyntaxError(f"found '{lit2}', expected: identifier after ','")
                else:
                    raise SelectorSyntaxError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorSyntaxError(
                    f"found '{lit}', expected: !, identifier, or 'end of string'"
                )

    def requirement(self) -> Requirement:
        key, op = self.key_and_operator()
        if op in (EXISTS, DOES_NOT_EXIST):
            return Requirement.new(key, op, [])
        op = self.operator()
        values = self.value_set() if op in (IN, NOT_IN) else self.exact_value()
        return Requirement.new(key, op, sorted(values))

    def key_and_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self.take()
        if tok == _BANG:
            op = DOES_NOT_EXIST
            tok, lit = self.take()
        if tok != _IDENT:
            raise SelectorSyntaxError(f"found '{lit}', expected: identifier")
        errs = label_key_errors(lit)
        if errs:
            raise SelectorSyntaxError(_field_error("<nil>", lit, "; ".join(errs)))
        if self.peek()[0] in (_EOS, _COMMA) and op != DOES_NOT_EXIST:
            op = EXISTS
        return lit, op

    def operator(self) -> str:
        tok, lit = self.take(values=False)
        ops = {
            _IN: IN,
            _EQ: EQUALS,
            _DEQ: DOUBLE_EQUALS,
            _GT: GREATER_THAN,
            _LT: LESS_THAN,
            _NOTIN: NOT_IN,
            _NEQ: NOT_EQUALS,
        }
        if tok not in ops:
            raise SelectorSyntaxError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return ops[tok]

    def value_set(self) -> set[str]:
        tok, lit = self.take()
        if tok != _OPEN:
            raise SelectorSyntaxError(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok in (_IDENT, _COMMA):
            values = self.identifiers()
            if self.take()[0] != _CLOSE:
                raise SelectorSyntaxError(f"found '{lit}', expected: ')'")
            return values
        if tok == _CLOSE:
            self.take()
            return {""}
        raise SelectorSyntaxError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.take()
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self.peek()
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return values
                raise SelectorSyntaxError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                if not values:
                    values.add("")
                tok2, _ = self.peek()
                if tok2 in (_CLOSE, _COMMA):
                    values.add("")
                if tok2 == _CLOSE:
                    return values
                continue
            raise SelectorSyntaxError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        tok, _ = self.peek()
        if tok in (_EOS, _COMMA):
            return {""}
        tok, lit = self.take()
        if tok == _IDENT:
            return {lit}
        raise SelectorSyntaxError(f"found '{lit}', expected: identifier")


def parse_label_selector(selector: str | None) -> LabelSelector:
    """Parse a ``labelSelector`` string such as ``app=zk,tier notin (a,b),!canary``.

    ``None`` or an empty string selects everything.  Bad syntax raises
    ``SelectorSyntaxError`` (an ``ApiError`` 400) with apimachinery's message.
    """
    if not selector:
        return LabelSelector()
    return LabelSelector(_Parser(selector).parse())


def selector_from_api(
    selector: Mapping[str, Any] | None, *, null_matches: str = "nothing"
) -> LabelSelector:
    """Shorthand for ``LabelSelector.from_api``."""
    return LabelSelector.from_api(selector, null_matches=null_matches)


def selector_matches(
    selector: Mapping[str, Any] | None,
    labels: Mapping[str, str] | None,
    *,
    null_matches: str = "nothing",
) -> bool:
    """Whether a ``metav1.LabelSelector`` dict matches a label map."""
    return LabelSelector.from_api(selector, null_matches=null_matches).matches(labels)


def selector_to_string(selector: Mapping[str, Any] | LabelSelector | None) -> str:
    """The canonical string form (``app=zk``), as the scale subresource reports it.

    Requirements are sorted by key and set values sorted; a ``null`` selector gives ``""``.
    """
    if isinstance(selector, LabelSelector):
        return str(selector)
    return str(LabelSelector.from_api(selector))


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
