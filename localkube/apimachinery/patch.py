"""PATCH semantics: RFC 6902 JSON patch, RFC 7386 merge patch, strategic merge patch, apply.

kubectl and the Python client drive most writes through patches: ``kubectl patch`` and
client-side ``apply`` send strategic merge patches, ``rollout undo`` replaces a whole pod
template with ``$patch: replace``, ``scale`` sends a merge patch, the tutorial's CPU change is a
JSON patch.  These functions reproduce the apiserver's results (including the order of
merged lists and which lists merge by which key, from the ``patchStrategy``/``patchMergeKey``
tags of k8s.io/api) and raise ``ApiError`` with the codes the apiserver uses.

All functions are pure: inputs are never mutated and results share no mutable parts with them.

This module is the public facade; the implementation lives in ``localkube.apimachinery.patching``
(``common``, ``jsonpatch``, ``mergepatch``, ``schemas``, ``strategic``, ``apply``, ``dispatch``).
"""

from __future__ import annotations

from localkube.apimachinery.patching.apply import apply_patch
from localkube.apimachinery.patching.common import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    PATCH_CONTENT_TYPES,
    STRATEGIC_MERGE_PATCH,
)
from localkube.apimachinery.patching.dispatch import patch_object
from localkube.apimachinery.patching.jsonpatch import json_patch
from localkube.apimachinery.patching.mergepatch import json_merge_patch
from localkube.apimachinery.patching.schemas import schema_for
from localkube.apimachinery.patching.strategic import strategic_merge

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_CONTENT_TYPES",
    "STRATEGIC_MERGE_PATCH",
    "apply_patch",
    "json_merge_patch",
    "json_patch",
    "patch_object",
    "schema_for",
    "strategic_merge",
]
