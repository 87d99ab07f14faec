"""Label and field selectors, with the apiserver's grammar, semantics and error messages.

Selectors decide what a list or watch returns, which pods a StatefulSet or PDB owns, and
which pods ``kubectl drain`` sees, so they must behave exactly like apimachinery's
``labels`` and ``fields`` packages: a requirement on a missing key, a ``null`` versus an empty
``metav1.LabelSelector``, ``!=`` matching objects without the label, and the 400 messages a
bad selector produces (kubectl prints them verbatim).

This module is the public facade: ``selectorsyntax`` holds the operators, error type and
key/value validation, ``labelselectors`` the label selectors, ``fieldselectors`` the field
selectors.
"""

from __future__ import annotations

from localkube.apimachinery.fieldselectors import (
    FieldSelector,
    FieldTerm,
    field_set,
    parse_field_selector,
    supported_fields,
)
from localkube.apimachinery.labelselectors import (
    LabelSelector,
    Requirement,
    parse_label_selector,
    selector_from_api,
    selector_matches,
    selector_to_string,
)
from localkube.apimachinery.selectorsyntax import (  # operators: public, kept importable here
    DOES_NOT_EXIST,  # noqa: F401
    DOUBLE_EQUALS,  # noqa: F401
    EQUALS,  # noqa: F401
    EXISTS,  # noqa: F401
    GREATER_THAN,  # noqa: F401
    IN,  # noqa: F401
    LESS_THAN,  # noqa: F401
    NOT_EQUALS,  # noqa: F401
    NOT_IN,  # noqa: F401
    SelectorSyntaxError,
    label_key_errors,
    label_value_errors,
)

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
