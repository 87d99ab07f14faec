"""ControllerRevisions: the snapshot of a pod template that pods are labelled with.

A revision's ``data`` is the strategic merge patch ``{"spec":{"template":{…,"$patch":"replace"}}}``
that ``kubectl rollout undo`` sends back verbatim. kubectl decides "skipped rollback" by comparing
that data byte for byte with the same patch built from the live set, which Go's encoder writes
with sorted keys; so the data is stored key-sorted and compared in Go's encoding.
"""

from __future__ import annotations

import json
import re
from typing import Any

from localkube.controllers.statefulset.identity import set_ref

HASH_LABEL = "controller.kubernetes.io/hash"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_INT32 = re.compile(r"[+-]?[0-9]+")
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
               "\u2029": "\\u2029"}


def sort_keys(value: Any) -> Any:
    """A copy with every object's keys in Go's (byte-wise) order."""
    if isinstance(value, dict):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(v) for v in value]
    return value


def go_json(value: Any) -> bytes:
    """What Go's ``json.Marshal`` writes for a decoded JSON value (map keys sorted)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_ESCAPES.items():
        text = text.replace(char, escaped)
    return text.encode()


def fnv1_32(data: bytes) -> int:
    """32-bit FNV-1 (multiply, then xor), as Go's ``hash/fnv.New32``."""
    h = _FNV_OFFSET
    for byte in data:
        h = ((h * _FNV_PRIME) & 0xFFFFFFFF) ^ byte
    return h


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: map each byte onto an alphabet without vowels or 0/1/3."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def revision_data(sts: dict) -> dict:
    """The patch that restores `sts`'s pod template (``getPatch``)."""
    template = sort_keys(sts["spec"]["template"])
    template["$patch"] = "replace"
    return {"spec": {"template": sort_keys(template)}}


def hash_data(data: dict, collision_count: int | None) -> str:
    raw = go_json(data)
    if collision_count is not None:
        raw += str(collision_count).encode()
    return safe_encode(str(fnv1_32(raw)))


def revision_name(set_name: str, hash_: str) -> str:
    return f"{set_name[:223]}-{hash_}"


def new_revision(sts: dict, number: int, collision_count: int) -> dict:
    """An unsaved revision of the set's current template (``newRevision``)."""
    meta = sts["metadata"]
    data = revision_data(sts)
    hash_ = hash_data(data, collision_count)
    labels = dict(((sts["spec"]["template"].get("metadata") or {}).get("labels")) or {})
    labels[HASH_LABEL] = hash_
    rev_meta: dict[str, Any] = {
        "name": revision_name(meta["name"], hash_),
        "namespace": meta.get("namespace", ""),
        "labels": labels,
    }
    if meta.get("annotations"):
        rev_meta["annotations"] = dict(meta["annotations"])
    rev_meta["ownerReferences"] = [set_ref(sts)]
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": rev_meta,
            "data": data, "revision": number}


def _numeric_hash(rev: dict) -> int | None:
    value = str(((rev["metadata"].get("labels")) or {}).get(HASH_LABEL, ""))
    if not _INT32.fullmatch(value) or not -(2**31) <= int(value) < 2**31:
        return None  # Go's ParseInt(…, 10, 32) fails: the label is not compared
    return int(value)


def equal_revision(a: dict, b: dict) -> bool:
    """``history.EqualRevision``: same data bytes (hash labels compared only when numeric)."""
    ha, hb = _numeric_hash(a), _numeric_hash(b)
    if ha is not None and hb is not None and ha != hb:
        return False
    return go_json(a.get("data")) == go_json(b.get("data"))


def template_of(rev: dict) -> dict:
    """The pod template a revision restores (what ``ApplyRevision`` would put in the set)."""
    template = dict(((rev.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def sort_revisions(revs: list[dict]) -> list[dict]:
    """Oldest first: by revision number, then creation time, then name."""
    return sorted(revs, key=lambda r: (int(r.get("revision", 0)),
                                       r["metadata"].get("creationTimestamp") or "",
                                       r["metadata"]["name"]))


def next_revision(sorted_revs: list[dict]) -> int:
    return int(sorted_revs[-1].get("revision", 0)) + 1 if sorted_revs else 1
