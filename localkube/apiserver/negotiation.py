"""Content negotiation: what the client sent (body codecs) and what it wants back (Accept).

Every decoding failure becomes a 400/415 `Status` here, so handlers only ever see a dict or
list. Query parameters are parsed the way Go's `strconv` and the apiserver's parameter codec
do (the Python client sends `True`/`False`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum

import yaml
from multidict import MultiMapping

from localkube.apimachinery.errors import bad_request, not_acceptable
from localkube.apimachinery.errors import unsupported_media_type as _unsupported
from localkube.apiserver import protobuf

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}


class As(Enum):
    """The representation a GET asked for through `Accept`'s `as=` parameter."""

    OBJECT = "object"
    TABLE = "Table"
    PARTIAL = "PartialObjectMetadata"
    PARTIAL_LIST = "PartialObjectMetadataList"


@dataclass(frozen=True)
class Output:
    """The negotiated response: media type, representation, and meta.k8s.io version."""

    media_type: str = JSON
    as_: As = As.OBJECT
    meta_version: str = "v1"


DEFAULT_OUTPUT = Output()


def _media_ranges(accept: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for item in accept.split(","):
        fields = [f.strip() for f in item.split(";")]
        if not fields[0]:
            continue
        params = {}
        for f in fields[1:]:
            key, _, value = f.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        out.append((fields[0].lower(), params))
    return out


def negotiate(accept: str | None, *, allow_transform: bool) -> Output:
    """Pick the first media range we can serve, in the client's order (as the apiserver does).

    `allow_transform` is true for get/list/watch, the only verbs that may answer a Table or
    PartialObjectMetadata. Raises 406 when nothing in `Accept` is servable.
    """
    if not accept:
        return DEFAULT_OUTPUT
    ranges = _media_ranges(accept)
    if not ranges:
        return DEFAULT_OUTPUT
    for media, params in ranges:
        as_param = params.get("as")
        if as_param:
            if not allow_transform or media != JSON or params.get("g") != "meta.k8s.io":
                continue
            version = params.get("v", "v1")
            if version not in ("v1", "v1beta1"):
                continue
            try:
                kind = As(as_param)
            except ValueError:
                continue
            if kind is As.OBJECT:
                continue
            return Output(JSON, kind, version)
        if media in (JSON, "application/*", "*/*", "*"):
            return DEFAULT_OUTPUT
        if media in (YAML, "text/yaml"):
            return Output(YAML)
    raise not_acceptable(
        "only the following media types are accepted: application/json, application/yaml"
    )


def decode_body(body: bytes, content_type: str | None, *, patch: bool = False) -> object:
    """Decode a request body as JSON or YAML; 400 on malformed input, 415 on other types."""
    media = (content_type or JSON).split(";", 1)[0].strip().lower()
    if not body.strip():
        raise bad_request("the body of the request was empty")
    if media in (JSON, "") or (patch and media.endswith("+json")):
        return _decode_json(body)
    if media in (YAML, "text/yaml", "application/x-yaml", "application/apply-patch+yaml"):
        return _decode_yaml(body)
    if media == PROTOBUF and not patch:
        return protobuf.decode(body, _unsupported([JSON, YAML]))
    raise _unsupported([JSON, YAML])


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid number {name}")


def _decode_json(body: bytes) -> object:
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad_request(f"json: cannot parse request body: {_first_line(exc)}") from exc


def _decode_yaml(body: bytes) -> object:
    try:
        docs = list(yaml.safe_load_all(body))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad_request(f"yaml: cannot parse request body: {_first_line(exc)}") from exc
    docs = [d for d in docs if d is not None]
    if len(docs) != 1:
        raise bad_request("the request body must contain exactly one YAML document")
    return _json_compatible(docs[0])


def _json_compatible(value: object) -> object:
    """YAML can express things JSON cannot (dates, binary, non-string keys); reject them."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            out[key] = _json_compatible(item)
        return out
    if isinstance(value, list):
        return [_json_compatible(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise bad_request(f"yaml: cannot parse request body: invalid number {value}")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def encode(obj: object, output: Output = DEFAULT_OUTPUT) -> bytes:
    if output.media_type == YAML:
        return yaml.safe_dump(obj, sort_keys=False).encode()
    return json.dumps(obj, separators=(",", ":")).encode()


# -- query parameters ----------------------------------------------------------------------


def parse_bool(query: MultiMapping[str], name: str, default: bool = False) -> bool:
    value = query.get(name)
    if value is None or value == "":
        return default
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise bad_request(f'invalid boolean value for "{name}": "{value}"')


def parse_int(query: MultiMapping[str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(f'invalid integer value for "{name}": "{value}"') from None


def dry_run(query: MultiMapping[str]) -> bool:
    """`dryRun=All` (the only defined value); anything else is a 400, as in the apiserver."""
    values = [v for v in query.getall("dryRun", []) if v != ""]
    for v in values:
        if v != "All":
            raise bad_request(f"Invalid dryRun value: {v!r} (valid values are 'All')")
    return bool(values)
