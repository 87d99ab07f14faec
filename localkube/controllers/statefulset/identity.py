"""Stable identity of StatefulSet members: names, ordinals, labels and claim names.

Membership is decided by name alone (``<set>-<ordinal>``), exactly as the Kubernetes
controller does, so a hand-made pod called ``zk-1`` that matches the selector is adopted and a
pod called ``zk-x`` never is.
"""

from __future__ import annotations

import re

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
API_VERSION = "apps/v1"
KIND = "StatefulSet"

_MEMBER = re.compile(r"(.*)-([0-9]+)")
_MAX_INT32 = 2**31 - 1


def parent_and_ordinal(name: str) -> tuple[str, int]:
    """(`set name`, ordinal) parsed from a pod name; ordinal -1 when it has none."""
    match = _MEMBER.fullmatch(name or "")
    if match is None:
        return "", -1
    number = int(match.group(2))
    return match.group(1), number if number <= _MAX_INT32 else -1


def ordinal_of(pod: dict) -> int:
    return parent_and_ordinal(pod["metadata"]["name"])[1]


def is_member(sts: dict, pod: dict) -> bool:
    return parent_and_ordinal(pod["metadata"]["name"])[0] == sts["metadata"]["name"]


def start_ordinal(sts: dict) -> int:
    return int(((sts["spec"].get("ordinals") or {}).get("start")) or 0)


def replicas_of(sts: dict) -> int:
    replicas = sts["spec"].get("replicas")
    return 1 if replicas is None else int(replicas)


def in_range(sts: dict, pod: dict) -> bool:
    """Whether the pod's ordinal is one the set currently wants (not condemned)."""
    ordinal, start = ordinal_of(pod), start_ordinal(sts)
    return start <= ordinal < start + replicas_of(sts)


def pod_name(sts: dict, ordinal: int) -> str:
    return f"{sts['metadata']['name']}-{ordinal}"


def claim_name(sts: dict, template: dict, ordinal: int) -> str:
    """``<template>-<set>-<ordinal>``, e.g. ``datadir-zk-0``."""
    return f"{template['metadata']['name']}-{sts['metadata']['name']}-{ordinal}"


def pod_revision(pod: dict) -> str:
    return str(((pod["metadata"].get("labels")) or {}).get(REVISION_LABEL, ""))


def controller_ref(owner: dict, api_version: str, kind: str) -> dict:
    """``metav1.NewControllerRef``: controller and blockOwnerDeletion both true."""
    meta = owner["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def set_ref(sts: dict) -> dict:
    return controller_ref(sts, API_VERSION, KIND)
