"""The scheduler's decisions as pure functions over a snapshot of nodes and pods.

Mirrors the default kube-scheduler profile for what a drill can observe: the per-node filters
run in plugin order (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit,
InterPodAffinity) and the first failing plugin gives that node's reasons; the reasons are
folded into the `FitError` text that `kubectl describe pod` shows. No I/O here, so the
scheduler controller and the tests share the exact same logic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localkube.apimachinery.quantity import QuantityError, parse_quantity
from localkube.apimachinery.selectors import LabelSelector
from localkube.controllers.podaffinityscore import PLUGIN_WEIGHT, normalise, raw_scores
from localkube.registry.podutil import is_terminal, labels_of

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
HOSTNAME = "kubernetes.io/hostname"

REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NO_NODES = "no nodes available to schedule pods"
BASIC_RESOURCES = ("cpu", "memory", "ephemeral-storage")

# The scoring defaults kube-scheduler assumes for containers that request nothing.
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024


@dataclass
class Verdict:
    """Why one node was rejected; `resolvable` is False for UnschedulableAndUnresolvable."""

    reasons: list[str]
    resolvable: bool


@dataclass
class NodeInfo:
    """A node plus the pods bound to it, as the scheduler cache holds them."""

    node: dict
    pods: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.node["metadata"]["name"])

    @property
    def labels(self) -> dict[str, str]:
        return labels_of(self.node)


def _quantity(value: Any, milli: bool) -> int:
    try:
        q = parse_quantity(value)
    except (QuantityError, ValueError):
        return 0
    return q.milli_value() if milli else q.as_int()


def pod_requests(pod: Mapping[str, Any], non_zero: bool = False) -> dict[str, int]:
    """Effective requests: containers summed, init containers max'ed, plus overhead.

    CPU in millicores, everything else in units. `non_zero` substitutes the scoring defaults
    for containers that request no cpu/memory (as NodeResourcesFit's scorer does).
    """
    spec = pod.get("spec") or {}

    def one(container: Mapping[str, Any]) -> dict[str, int]:
        requests = ((container.get("resources") or {}).get("requests")) or {}
        out = {name: _quantity(v, name == "cpu") for name, v in requests.items()}
        if non_zero:  # only when unset: an explicit 0 stays 0
            out.setdefault("cpu", DEFAULT_MILLI_CPU)
            out.setdefault("memory", DEFAULT_MEMORY)
        return out

    total: Counter[str] = Counter()
    for container in spec.get("containers") or []:
        total.update(one(container))
    for container in spec.get("initContainers") or []:
        for name, value in one(container).items():
            total[name] = max(total[name], value)
    for name, value in (spec.get("overhead") or {}).items():
        total[name] += _quantity(value, name == "cpu")
    return dict(total)


def snapshot(nodes: Iterable[dict], pods: Iterable[dict]) -> dict[str, NodeInfo]:
    """Node name → NodeInfo; bound pods count until deleted, terminal pods do not."""
    infos = {n["metadata"]["name"]: NodeInfo(n) for n in nodes}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node in infos and not is_terminal(pod):
            infos[node].pods.append(pod)
    return infos


# -- taints and node affinity ---------------------------------------------------------------
def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    """`Toleration.ToleratesTaint` for any toleration in the list."""
    for tol in tolerations:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        key = tol.get("key") or ""
        operator = tol.get("operator") or "Equal"
        if key and key != taint.get("key"):
            continue
        if operator == "Exists" or (key and (tol.get("value") or "") == (taint.get("value") or "")):
            return True
    return False


def _expression_matches(expr: Mapping[str, Any], value: str | None) -> bool:
    op, values = expr.get("operator"), list(expr.get("values") or [])
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            have, want = int(value), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def _node_term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False  # an empty term matches no objects
    labels = labels_of(node)
    name = node["metadata"]["name"]
    return all(_expression_matches(e, labels.get(e.get("key", ""))) for e in exprs) and all(
        _expression_matches(f, name if f.get("key") == "metadata.name" else None) for f in fields
    )


def node_affinity_matches(pod: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    labels = labels_of(node)
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return True
    return any(_node_term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])


# -- resources ------------------------------------------------------------------------------
def fit_reasons(pod: Mapping[str, Any], info: NodeInfo) -> Verdict | None:
    """NodeResourcesFit: `Too many pods` and `Insufficient <resource>` for each shortfall."""
    allocatable = (info.node.get("status") or {}).get("allocatable") or {}
    reasons: list[str] = []
    unresolvable = False
    allowed = _quantity(allocatable.get("pods", "110"), False)
    if len(info.pods) + 1 > allowed:
        reasons.append("Too many pods")
    want = pod_requests(pod)
    if any(want.values()):
        used: Counter[str] = Counter()
        for other in info.pods:
            used.update(pod_requests(other))
        for name in (*BASIC_RESOURCES, *sorted(set(want) - set(BASIC_RESOURCES))):
            amount = want.get(name, 0)
            if amount <= 0:
                continue
            capacity = _quantity(allocatable.get(name, "0"), name == "cpu")
            if amount > capacity - used[name]:
                reasons.append(f"Insufficient {name}")
                unresolvable = unresolvable or amount > capacity
    return Verdict(reasons, not unresolvable) if reasons else None


# -- inter-pod affinity ---------------------------------------------------------------------
def _term_matches(term: Mapping[str, Any], owner: Mapping[str, Any], pod: Mapping[str, Any],
                  ns_labels: Mapping[str, Mapping[str, str]]) -> bool:
    """Does `pod` match an affinity term declared by `owner` (namespaces default to owner's)?"""
    namespace = pod["metadata"].get("namespace", "")
    names = set(term.get("namespaces") or [])
    ns_selector = term.get("namespaceSelector")
    if not names and ns_selector is None:
        names = {owner["metadata"].get("namespace", "")}
    in_ns = namespace in names or (
        ns_selector is not None
        and LabelSelector.from_api(ns_selector).matches(ns_labels.get(namespace) or {})
    )
    return in_ns and LabelSelector.from_api(term.get("labelSelector")).matches(labels_of(pod))


def _required(pod: Mapping[str, Any], kind: str) -> list[dict]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    return list(affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or [])


@dataclass
class AffinityState:
    """InterPodAffinity's PreFilter state: matched-term counts per (topologyKey, value)."""

    affinity_terms: list[dict]
    anti_terms: list[dict]
    affinity: Counter[tuple[str, str]]
    anti: Counter[tuple[str, str]]
    existing_anti: Counter[tuple[str, str]]
    self_match: bool


def affinity_state(pod: Mapping[str, Any], infos: Mapping[str, NodeInfo],
                   ns_labels: Mapping[str, Mapping[str, str]]) -> AffinityState:
    aff, anti = _required(pod, "podAffinity"), _required(pod, "podAntiAffinity")
    state = AffinityState(aff, anti, Counter(), Counter(), Counter(),
                          all(_term_matches(t, pod, pod, ns_labels) for t in aff))
    for info in infos.values():
        labels = info.labels
        for other in info.pods:
            if aff and all(_term_matches(t, pod, other, ns_labels) for t in aff):
                for t in aff:
                    if t.get("topologyKey") in labels:
                        state.affinity[(t["topologyKey"], labels[t["topologyKey"]])] += 1
            for t in anti:
                if t.get("topologyKey") in labels and _term_matches(t, pod, other, ns_labels):
                    state.anti[(t["topologyKey"], labels[t["topologyKey"]])] += 1
            for t in _required(other, "podAntiAffinity"):
                if t.get("topologyKey") in labels and _term_matches(t, other, pod, ns_labels):
                    state.existing_anti[(t["topologyKey"], labels[t["topologyKey"]])] += 1
    return state


def affinity_reason(state: AffinityState, info: NodeInfo) -> Verdict | None:
    labels = info.labels
    exists = True
    for term in state.affinity_terms:
        key = term.get("topologyKey", "")
        if key not in labels:
            return Verdict([REASON_AFFINITY], False)
        if state.affinity[(key, labels[key])] <= 0:
            exists = False
    # The first pod of a group with affinity to itself may go anywhere with the topology.
    first_of_group = not state.affinity and state.self_match
    if not exists and not first_of_group:
        return Verdict([REASON_AFFINITY], False)
    for term in state.anti_terms:
        key = term.get("topologyKey", "")
        if key in labels and state.anti[(key, labels[key])] > 0:
            return Verdict([REASON_ANTI_AFFINITY], True)
    if any(state.existing_anti[(k, v)] > 0 for k, v in labels.items()):
        return Verdict([REASON_EXISTING_ANTI], True)
    return None


# -- the filter chain -----------------------------------------------------------------------
def filter_node(pod: Mapping[str, Any], info: NodeInfo, state: AffinityState) -> Verdict | None:
    """Run the filters in plugin order; None when the node fits."""
    spec = pod.get("spec") or {}
    tolerations = spec.get("tolerations") or []
    node_spec = info.node.get("spec") or {}
    if node_spec.get("unschedulable") and not tolerates(
        tolerations, {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}
    ):
        return Verdict([REASON_UNSCHEDULABLE], False)
    for taint in node_spec.get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            text = f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
            return Verdict([text], False)
    if not node_affinity_matches(pod, info.node):
        return Verdict([REASON_NODE_AFFINITY], False)
    verdict = fit_reasons(pod, info)
    if verdict is not None:
        return verdict
    return affinity_reason(state, info)


def score(pod: Mapping[str, Any], info: NodeInfo) -> int:
    """NodeResourcesFit's LeastAllocated score (0-100) over cpu and memory."""
    allocatable = (info.node.get("status") or {}).get("allocatable") or {}
    want = pod_requests(pod, non_zero=True)
    used: Counter[str] = Counter()
    for other in info.pods:
        used.update(pod_requests(other, non_zero=True))
    total = 0
    for name in ("cpu", "memory"):
        capacity = _quantity(allocatable.get(name, "0"), name == "cpu")
        requested = used[name] + want.get(name, 0)
        if capacity > 0 and requested <= capacity:
            total += (capacity - requested) * 100 // capacity
    return total // 2


def pick(pod: Mapping[str, Any], feasible: list[NodeInfo],
         affinity: Mapping[str, int] | None = None) -> NodeInfo:
    """Highest score; ties go to the node with fewer pods, then by name (reproducible).

    `affinity` holds InterPodAffinity's normalised scores (see `podaffinityscore`), which
    count with the plugin's weight of 2.
    """
    extra = affinity or {}

    def total(info: NodeInfo) -> int:
        return score(pod, info) + PLUGIN_WEIGHT * extra.get(info.name, 0)

    return min(feasible, key=lambda i: (-total(i), len(i.pods), i.name))


def affinity_scores(pod: Mapping[str, Any], feasible: list[NodeInfo],
                    infos: Mapping[str, NodeInfo],
                    ns_labels: Mapping[str, Mapping[str, str]]) -> dict[str, int]:
    """InterPodAffinity's normalised scores of the feasible nodes."""
    placed = ((info.labels, other) for info in infos.values() for other in info.pods)
    raw = raw_scores(pod, {i.name: i.labels for i in feasible}, placed, ns_labels)
    return normalise(raw)


def fit_error(total: int, verdicts: Mapping[str, Verdict], prefilter: str | None,
              pod: Mapping[str, Any]) -> str:
    """`FitError.Error()` followed by the default preemption plugin's diagnosis."""
    if total == 0:
        return NO_NODES
    text = f"0/{total} nodes are available:"
    if prefilter:
        text += f" {prefilter}."
    else:
        counts = Counter(r for v in verdicts.values() for r in v.reasons)
        items = sorted(f"{n} {reason}" for reason, n in counts.items())
        if items:
            text += " " + ", ".join(items) + "."
    if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        return text + " preemption: not eligible due to preemptionPolicy=Never."
    # All pods share priority 0 here, so no node ever has preemption victims.
    if prefilter:
        outcome = Counter({NOT_HELPFUL: total})
    else:
        outcome = Counter(NO_VICTIMS if v.resolvable else NOT_HELPFUL for v in verdicts.values())
    items = sorted(f"{n} {reason}" for reason, n in outcome.items())
    return text + f" preemption: 0/{total} nodes are available: " + ", ".join(items) + "."


# -- volumes (VolumeBinding's PreFilter) ----------------------------------------------------
def volume_prefilter(pod: Mapping[str, Any], claims: Mapping[str, dict],
                     classes: Mapping[str, dict]) -> tuple[str | None, list[str]]:
    """(rejection message, claims waiting for this pod's node) for the pod's PVC volumes.

    `claims` are the pod namespace's PVCs by name; `classes` the StorageClasses by name.
    Unbound claims of an Immediate class block scheduling until the volume controller
    binds them; WaitForFirstConsumer claims are returned so the binder can select the node.
    """
    delayed: list[str] = []
    unbound_immediate = False
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        source = volume.get("persistentVolumeClaim")
        if not source:
            continue
        name = source.get("claimName", "")
        pvc = claims.get(name)
        if pvc is None:
            return f'persistentvolumeclaim "{name}" not found', []
        spec = pvc.get("spec") or {}
        if (pvc.get("status") or {}).get("phase") == "Lost":
            return (f'persistentvolumeclaim "{name}" bound to non-existent persistentvolume '
                    f'"{spec.get("volumeName", "")}"'), []
        if pvc["metadata"].get("deletionTimestamp"):
            return f'persistentvolumeclaim "{name}" is being deleted', []
        annotations = pvc["metadata"].get("annotations") or {}
        if spec.get("volumeName") and annotations.get("pv.kubernetes.io/bind-completed"):
            continue
        sc = classes.get(spec.get("storageClassName") or "")
        if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
            delayed.append(name)
        else:
            unbound_immediate = True
    if unbound_immediate:
        return "pod has unbound immediate PersistentVolumeClaims", []
    return None, delayed
