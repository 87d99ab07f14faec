"""What the disruption drills conclude from specs and pod timelines (pure, no I/O).

- probe budgets: how soon the kubelet may act on a broken probe, and how late it must have,
  from the probe's own settings (defaults as in the API: period 10, timeout 1, threshold 3);
- ``restart_trace``: a container restart as ``kubectl get pods -w`` showed it (not ready /
  Error, RESTARTS+1, Ready again), read from the recorded events;
- ``update_order``: a rolling update replaced pods one at a time, in the expected order, each
  replacement Running and Ready before the next pod went;
- ``fewest_ready``: the lowest number of Running+Ready pods at any moment (quorum held?);
- ``hostname_anti_affinity``: the template's required anti-affinity really keeps its own pods
  apart (its selector is evaluated against the template's labels, literally);
- ``endpoint_state`` and ``cpu_millis``: small readers for Endpoints and CPU quantities.

Events are ``harness.timeline.PodEvent`` (duck-typed here: seq, mono, type, pod, gone,
running_ready).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

HOSTNAME_KEY = "kubernetes.io/hostname"


# -- probes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeTimes:
    initial_delay: float
    period: float
    timeout: float
    failure_threshold: int
    success_threshold: int

    @classmethod
    def of(cls, probe: Mapping[str, Any] | None) -> ProbeTimes | None:
        if not probe:
            return None
        return cls(
            float(probe.get("initialDelaySeconds") or 0),
            float(probe.get("periodSeconds") or 10),
            float(probe.get("timeoutSeconds") or 1),
            int(probe.get("failureThreshold") or 3),
            int(probe.get("successThreshold") or 1),
        )

    @property
    def earliest_action(self) -> float:
        """Failures needed minus one full periods: nothing can happen sooner after a fault."""
        return self.period * (self.failure_threshold - 1)

    @property
    def latest_action(self) -> float:
        """initialDelay + period x failureThreshold + timeout: the kubelet has acted by then."""
        return self.initial_delay + self.period * self.failure_threshold + self.timeout

    def describe(self) -> str:
        return (f"initialDelaySeconds {self.initial_delay:g}, periodSeconds {self.period:g}, "
                f"timeoutSeconds {self.timeout:g}, failureThreshold {self.failure_threshold}")


def container_spec(pod_spec: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The named container of a pod spec (or its only one)."""
    containers = pod_spec.get("containers") or []
    found = next((c for c in containers if c.get("name") == name), None)
    if found is None and len(containers) == 1:
        found = containers[0]
    if found is None:
        raise ValueError(f"no container {name!r} in the pod spec")
    return found


# -- one container restart, from the timeline ----------------------------------------------------


@dataclass(frozen=True)
class RestartTrace:
    pod: str
    restarts_before: int
    unready: Any = None  # first event not Running+Ready (0/1 Error, 0/1 Running, ...)
    error: Any = None  # first event whose STATUS is Error (the tutorial's "0/1 Error 0")
    restarted: Any = None  # first event with RESTARTS above restarts_before
    ready_again: Any = None  # first Running+Ready event after the restart
    replaced: Any = None  # an event of another incarnation (a new pod, not a restart)

    def rows(self) -> list[str]:
        seen = (self.unready, self.error, self.restarted, self.ready_again, self.replaced)
        return [e.row() for e in sorted({id(e): e for e in seen if e}.values(),
                                        key=lambda e: e.seq)]

    def describe(self) -> str:
        return "; ".join(self.rows()) or f"no change of {self.pod} was seen"


def restart_trace(events: Sequence[Any], name: str, uid: str, restarts_before: int) -> RestartTrace:
    unready = error = restarted = ready_again = replaced = None
    for e in sorted(events, key=lambda ev: ev.seq):
        if e.pod.name != name:
            continue
        if e.pod.uid != uid:
            replaced = replaced or e
            continue
        if unready is None and not e.running_ready:
            unready = e
        if error is None and e.pod.status == "Error":
            error = e
        if restarted is None and e.pod.restarts > restarts_before:
            restarted = e
        if restarted is not None and ready_again is None and e.running_ready:
            ready_again = e
    return RestartTrace(name, restarts_before, unready, error, restarted, ready_again, replaced)


# -- a rolling update ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Replacement:
    pod: str
    old_uid: str
    went: Any = None  # the old incarnation started terminating (or vanished)
    ready: Any = None  # the new incarnation was first Running and Ready


@dataclass(frozen=True)
class UpdateOrder:
    replacements: tuple[Replacement, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def evidence(self) -> list[str]:
        return [f"{r.pod}: old went {_at(r.went)}, new Running and Ready {_at(r.ready)}"
                for r in self.replacements]


def update_order(
    events: Sequence[Any], expected: Sequence[str], old_uids: Mapping[str, str]
) -> UpdateOrder:
    """Check that ``expected`` pods were replaced in that order, one at a time."""
    ordered = sorted(events, key=lambda ev: ev.seq)
    found = []
    for name in expected:
        old = old_uids.get(name, "")
        went = next((e for e in ordered if e.pod.name == name and e.pod.uid == old
                     and (e.pod.deleting or e.gone)), None)
        ready = next((e for e in ordered if e.pod.name == name and e.pod.uid != old
                      and e.running_ready), None)
        found.append(Replacement(name, old, went, ready))
    problems = [f"{r.pod} was not replaced" + ("" if r.went else " (its old pod never went)")
                for r in found if r.went is None or r.ready is None]
    went = [r for r in found if r.went is not None]
    actual = [r.pod for r in sorted(went, key=lambda r: r.went.seq)]
    if actual != [r.pod for r in went]:
        problems.append(f"pods went in the order {', '.join(actual)}, "
                        f"expected {', '.join(expected)}")
    for before, after in itertools.pairwise(found):
        if after.went is None:
            continue
        if before.ready is None or after.went.seq < before.ready.seq:
            problems.append(f"{after.pod} went at {_at(after.went)} before the new {before.pod} "
                            f"was Running and Ready ({_at(before.ready)})")
    return UpdateOrder(tuple(found), tuple(problems))


def fewest_ready(
    events: Sequence[Any], names: Sequence[str], initially_ready: Sequence[str]
) -> tuple[int, Any]:
    """The lowest count of Running+Ready pods among ``names`` at any event, and that event."""
    ready = {n: n in initially_ready for n in names}
    lowest, where = sum(ready.values()), None
    for e in sorted(events, key=lambda ev: ev.seq):
        if e.pod.name not in ready:
            continue
        ready[e.pod.name] = bool(e.running_ready)
        count = sum(ready.values())
        if count < lowest:
            lowest, where = count, e
    return lowest, where


# -- spreading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpreadRule:
    ok: bool
    detail: str


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector evaluated as Kubernetes does (null matches nothing, {} everything)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def hostname_anti_affinity(template: Mapping[str, Any]) -> SpreadRule:
    """Does a *required* anti-affinity term on the hostname select the template's own pods?"""
    labels = (template.get("metadata") or {}).get("labels") or {}
    affinity = (template.get("spec") or {}).get("affinity") or {}
    anti = affinity.get("podAntiAffinity") or {}
    terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []
    if not terms:
        soft = [t.get("podAffinityTerm") or {} for t in
                anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
        if soft:
            matching = [t for t in soft if t.get("topologyKey") == HOSTNAME_KEY
                        and selector_matches(t.get("labelSelector"), labels)]
            how = ("" if matching else "; and it " + _mismatch(soft[0], labels))
            return SpreadRule(False, "the pod template has no required podAntiAffinity (only a "
                                     "preferred one): preferred (soft) anti-affinity lets two "
                                     "servers share a node, and draining or losing that node "
                                     "takes the quorum" + how)
        return SpreadRule(False, "the pod template has no required podAntiAffinity (none at "
                                 "all): nothing keeps two servers off one node, and draining "
                                 "or losing that node takes the quorum")
    seen = []
    for term in terms:
        key = term.get("topologyKey")
        selects = selector_matches(term.get("labelSelector"), labels)
        if key == HOSTNAME_KEY and selects:
            return SpreadRule(True, f"required podAntiAffinity on {HOSTNAME_KEY} selects the "
                                    f"pods' own labels {dict(labels)}")
        seen.append(f"topologyKey {key}: " + (
            f"selects the pods' labels {dict(labels)}" if selects else _mismatch(term, labels)))
    return SpreadRule(False, "no required anti-affinity term keeps the pods on separate "
                             "hosts: " + "; ".join(seen))


def describe_selector(selector: Mapping[str, Any] | None) -> str:
    """``app in (zk), tier=db`` as kubectl prints a label selector."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for e in selector.get("matchExpressions") or []:
        op = str(e.get("operator", ""))
        values = ",".join(str(v) for v in e.get("values") or [])
        parts.append({"In": f"{e.get('key')} in ({values})",
                      "NotIn": f"{e.get('key')} notin ({values})",
                      "Exists": str(e.get("key")),
                      "DoesNotExist": f"!{e.get('key')}"}.get(op, f"{e.get('key')} {op}"))
    return ", ".join(parts) or "(everything)"


def _mismatch(term: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    shown = ", ".join(f"{k}: {v}" for k, v in labels.items())
    return (f"selects {describe_selector(term.get('labelSelector'))} but the pods are labelled "
            f"{shown}: it does not match the pods' labels, so it keeps nothing apart")


# -- small readers -------------------------------------------------------------------------------


def endpoint_state(endpoints: Mapping[str, Any] | None, pod: str) -> str:
    """``ready``, ``notReady`` or ``absent``: where ``pod`` is in an Endpoints object."""
    for subset in (endpoints or {}).get("subsets") or []:
        for key, state in (("addresses", "ready"), ("notReadyAddresses", "notReady")):
            for address in subset.get(key) or []:
                if (address.get("targetRef") or {}).get("name") == pod:
                    return state
    return "absent"


_CPU_SUFFIX = {
    "m": Decimal("1"), "u": Decimal("0.001"), "n": Decimal("0.000001"), "": Decimal(1000)
}


def cpu_millis(quantity: str | int | float) -> int:
    """``"0.3"`` and ``"300m"`` -> 300; ``"1"`` -> 1000 (rounded up, as the API does)."""
    text = str(quantity).strip()
    suffix = text[-1] if text and text[-1] in "mun" else ""
    try:
        value = Decimal(text[: len(text) - len(suffix)]) * _CPU_SUFFIX[suffix]
    except InvalidOperation as exc:
        raise ValueError(f"not a CPU quantity: {quantity!r}") from exc
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def _at(event: Any) -> str:
    return "never" if event is None else f"#{event.seq} {event.at:%H:%M:%S.%f}"[:-3]
