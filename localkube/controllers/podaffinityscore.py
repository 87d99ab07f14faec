"""InterPodAffinity's Score: *preferred* pod (anti-)affinity, as kube-scheduler weighs it.

Filters only reject nodes; soft rules (`preferredDuringSchedulingIgnoredDuringExecution`,
what the Bitnami chart sets by default) only rank the feasible ones. For each candidate
node and each pod already bound somewhere with the same topology value (same
`topologyKey` label value as the candidate):

- the incoming pod's preferred affinity terms that select that pod add their weight, its
  preferred anti-affinity terms subtract theirs;
- symmetrically, that pod's preferred terms that select the incoming pod add/subtract, and
  its *required* affinity terms add `HARD_POD_AFFINITY_WEIGHT`.

Raw sums are normalised to 0..100 across the feasible nodes (max-min scaling) and enter the
total with the plugin's default weight 2, so spreading wins over the resource score when
possible, while a node that already has a replica stays feasible when nothing else fits.
Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from localkube.apimachinery.selectors import LabelSelector
from localkube.registry.podutil import labels_of

HARD_POD_AFFINITY_WEIGHT = 1
PLUGIN_WEIGHT = 2
MAX_NODE_SCORE = 100


def _preferred(pod: Mapping[str, Any], kind: str) -> list[tuple[int, dict]]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    out = []
    for item in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        term = item.get("podAffinityTerm") or {}
        out.append((int(item.get("weight") or 0), term))
    return out


def _required(pod: Mapping[str, Any], kind: str) -> list[dict]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    return list(affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or [])


def _selects(term: Mapping[str, Any], owner: Mapping[str, Any], pod: Mapping[str, Any],
             ns_labels: Mapping[str, Mapping[str, str]]) -> bool:
    """Does `owner`'s term select `pod` (namespaces default to the owner's)?"""
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    names = set(term.get("namespaces") or [])
    ns_selector = term.get("namespaceSelector")
    if not names and ns_selector is None:
        names = {(owner.get("metadata") or {}).get("namespace", "")}
    in_ns = namespace in names or (
        ns_selector is not None
        and LabelSelector.from_api(ns_selector).matches(ns_labels.get(namespace) or {})
    )
    return in_ns and LabelSelector.from_api(term.get("labelSelector")).matches(labels_of(pod))


def _weighted_terms(incoming: Mapping[str, Any], existing: Mapping[str, Any],
                    ns_labels: Mapping[str, Mapping[str, str]]) -> list[tuple[str, int]]:
    """(topologyKey, signed weight) of every rule relating the two pods."""
    out: list[tuple[str, int]] = []
    for sign, kind in ((1, "podAffinity"), (-1, "podAntiAffinity")):
        for weight, term in _preferred(incoming, kind):
            if _selects(term, incoming, existing, ns_labels):
                out.append((term.get("topologyKey", ""), sign * weight))
        for weight, term in _preferred(existing, kind):
            if _selects(term, existing, incoming, ns_labels):
                out.append((term.get("topologyKey", ""), sign * weight))
    for term in _required(existing, "podAffinity"):
        if _selects(term, existing, incoming, ns_labels):
            out.append((term.get("topologyKey", ""), HARD_POD_AFFINITY_WEIGHT))
    return out


def raw_scores(pod: Mapping[str, Any], candidates: Mapping[str, Mapping[str, str]],
               placed: Iterable[tuple[Mapping[str, str], Mapping[str, Any]]],
               ns_labels: Mapping[str, Mapping[str, str]]) -> dict[str, int]:
    """Signed sums per candidate node.

    `candidates` maps node name → node labels; `placed` yields (labels of the node an
    existing pod is bound to, that pod).
    """
    scores = dict.fromkeys(candidates, 0)
    for node_labels, other in placed:
        if other is pod or (other.get("metadata") or {}).get("uid") == \
                (pod.get("metadata") or {}).get("uid"):
            continue
        for key, weight in _weighted_terms(pod, other, ns_labels):
            if not key or key not in node_labels:
                continue
            for name, labels in candidates.items():
                if labels.get(key) == node_labels[key]:
                    scores[name] += weight
    return scores


def normalise(raw: Mapping[str, int]) -> dict[str, int]:
    """Max-min scaling to 0..100; all equal → all 0 (the plugin's NormalizeScore)."""
    if not raw:
        return {}
    low, high = min(raw.values()), max(raw.values())
    if high == low:
        return dict.fromkeys(raw, 0)
    return {name: MAX_NODE_SCORE * (value - low) // (high - low) for name, value in raw.items()}
