"""Label selectors: requirements, ``LabelSelector``, and the ``labelSelector`` parser."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from localkube.apimachinery.selectorsyntax import (
    _BINARY_OPERATORS,
    _VALID_OPERATORS,
    DOES_NOT_EXIST,
    DOUBLE_EQUALS,
    EQUALS,
    EXISTS,
    GREATER_THAN,
    IN,
    LESS_THAN,
    NOT_EQUALS,
    NOT_IN,
    SelectorSyntaxError,
    _aggregate,
    _field_error,
    _quote,
    label_key_errors,
    label_value_errors,
)

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
