"""The disruption controller: keeps each PodDisruptionBudget's status true.

Eviction (`localkube.registry.eviction`) trusts `status.disruptionsAllowed` blindly, so this
controller recomputes it whenever a selected pod, the budget or a StatefulSet changes:
expected pods from the owning controllers' `spec.replicas`, healthy pods = Ready, not
terminating and not recently evicted (`disruptedPods`, trusted for two minutes). Status is
written through the status subresource only when it differs, as kube-controller-manager does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.apimachinery.meta import controller_of, split_api_version
from localkube.apimachinery.selectors import LabelSelector
from localkube.controllers.base import Controller, Key
from localkube.registry.eviction import update_disruption_allowed_condition
from localkube.registry.podutil import (
    POD_REF,
    is_ready,
    is_terminating,
    labels_of,
    ns_name,
    parse_stamp,
    set_condition,
    stamp,
)
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

DELETION_TIMEOUT = 120.0  # seconds an evicted pod may linger before it counts again
PDB_REF = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget"}


class SyncError(Exception):
    """The budget cannot be computed; the controller fails safe (no disruptions)."""


def _selector(pdb: Mapping[str, Any]) -> LabelSelector:
    try:
        return LabelSelector.from_api((pdb.get("spec") or {}).get("selector"))
    except ApiError:
        return LabelSelector.nothing()


def scaled_value(value: int | str, total: int, round_up: bool) -> int:
    """`intstr.GetScaledValueFromIntOrPercent`."""
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%") or not text[:-1].isdigit():
        raise SyncError(f"invalid value for IntOrString: invalid value {text!r}: "
                        "must be an integer or a percentage")
    exact = int(text[:-1]) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def _go_selector(selector: Mapping[str, Any] | None) -> str:
    """Roughly how Go's `%v` prints a `*metav1.LabelSelector` in the UnmanagedPods event."""
    if selector is None:
        return "nil"
    labels = "".join(f"{k}: {v}," for k, v in sorted((selector.get("matchLabels") or {}).items()))
    exprs = "".join(
        f"LabelSelectorRequirement{{Key:{e.get('key')},Operator:{e.get('operator')},"
        f"Values:[{' '.join(e.get('values') or [])}],}},"
        for e in selector.get("matchExpressions") or []
    )
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}")


class DisruptionController(Controller):
    name = "disruption"
    watches = (R.PODS.key, R.PDBS.key, R.STATEFULSETS.key)

    def initial_keys(self) -> Iterable[Key]:
        return [(p["metadata"]["namespace"], p["metadata"]["name"])
                for p, _ in self.store.scan(R.PDBS.key)]

    def keys_for(self, change: Change) -> Iterator[Key]:
        if change.resource == R.PDBS.key:
            if change.type != DELETED:
                yield change.namespace, change.obj["metadata"]["name"]
            return
        for pdb, _ in self.store.scan(R.PDBS.key, change.namespace):
            key = (change.namespace, pdb["metadata"]["name"])
            if change.resource == R.STATEFULSETS.key:
                yield key
                continue
            selector = _selector(pdb)
            if selector.matches(labels_of(change.obj)) or (
                change.old is not None and selector.matches(labels_of(change.old))
            ):
                yield key

    async def reconcile(self, key: Key) -> float | None:
        namespace, name = ns_name(key)
        pdb = self.registry.try_get(R.PDBS, namespace, name)
        if pdb is None:
            return None
        now = self.registry.clock()
        try:
            selector = _selector(pdb)
            pods = [p for p, _ in self.store.scan(R.PODS.key, namespace)
                    if selector.matches(labels_of(p))]
            if not pods:
                self._event(pdb, "Normal", "NoPods", "No matching pods found")
            expected, desired = self._expected(pdb, pods)
        except SyncError as err:
            self._fail_safe(pdb, str(err))
            return None
        disrupted, recheck = self._disrupted(pdb, pods, now)
        healthy = sum(
            1 for p in pods
            if not is_terminating(p) and p["metadata"]["name"] not in disrupted and is_ready(p)
        )
        self._write(pdb, healthy, desired, expected, disrupted)
        return None if recheck is None else max(0.0, recheck - now)

    # -- the arithmetic --------------------------------------------------------------------
    def _expected(self, pdb: dict, pods: list[dict]) -> tuple[int, int]:
        """(expectedPods, desiredHealthy) from maxUnavailable or minAvailable."""
        spec = pdb.get("spec") or {}
        if spec.get("maxUnavailable") is not None:
            expected = self._scale(pdb, pods)
            unavailable = scaled_value(spec["maxUnavailable"], expected, True)
            return expected, max(0, expected - unavailable)
        minimum = spec.get("minAvailable")
        if isinstance(minimum, int):
            return len(pods), minimum
        if minimum is not None:
            expected = self._scale(pdb, pods)
            return expected, scaled_value(minimum, expected, True)
        return 0, 0

    def _scale(self, pdb: dict, pods: list[dict]) -> int:
        """Σ spec.replicas over the distinct controllers of the pods (`getExpectedScale`)."""
        scales: dict[str, int] = {}
        unmanaged = []
        for pod in pods:
            ref = controller_of(pod)
            if ref is None:
                unmanaged.append(pod["metadata"]["name"])
                continue
            if ref.get("uid") in scales:
                continue
            replicas = self._controller_scale(ref, pod["metadata"]["namespace"])
            if replicas is None:
                raise SyncError(f'found no controllers for pod "{pod["metadata"]["name"]}"')
            scales[ref["uid"]] = replicas
        if unmanaged:
            self._event(pdb, "Warning", "UnmanagedPods",
                        "Pods selected by this PodDisruptionBudget (selector: "
                        f"{_go_selector((pdb.get('spec') or {}).get('selector'))}) were found to "
                        "be unmanaged. As a result, the status of the PDB cannot be calculated "
                        "correctly, which may result in undefined behavior. To account for these "
                        'pods please set ".spec.minAvailable" field of the PDB to an integer '
                        "value.")
        return sum(scales.values())

    def _controller_scale(self, ref: Mapping[str, Any], namespace: str) -> int | None:
        group, _ = split_api_version(str(ref.get("apiVersion", "")))
        if ref.get("kind") != "StatefulSet" or group != "apps":
            return None  # the other workload kinds are not served by localkube
        sts = self.store.peek(R.STATEFULSETS.key, namespace, str(ref.get("name")))
        if sts is None or sts["metadata"].get("uid") != ref.get("uid"):
            return None
        replicas = (sts.get("spec") or {}).get("replicas")
        return int(replicas) if replicas is not None else 1

    def _disrupted(self, pdb: dict, pods: list[dict],
                   now: float) -> tuple[dict[str, str], float | None]:
        """Keep `disruptedPods` entries for live pods younger than the deletion timeout."""
        recorded = (pdb.get("status") or {}).get("disruptedPods") or {}
        kept: dict[str, str] = {}
        recheck: float | None = None
        for pod in pods:
            name = pod["metadata"]["name"]
            if is_terminating(pod) or name not in recorded:
                continue
            since = parse_stamp(recorded[name])
            expires = (since or 0.0) + DELETION_TIMEOUT
            if expires < now:
                self._event({**POD_REF, "metadata": pod["metadata"]}, "Warning", "NotDeleted",
                            f"Pod was expected by PDB {pdb['metadata']['namespace']}/"
                            f"{pdb['metadata']['name']} to be deleted but it wasn't")
                continue
            kept[name] = recorded[name]
            recheck = expires if recheck is None else min(recheck, expires)
        return kept, recheck

    # -- writes ----------------------------------------------------------------------------
    def _write(self, pdb: dict, healthy: int, desired: int, expected: int,
               disrupted: dict[str, str]) -> None:
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        old = pdb.get("status") or {}
        generation = int(pdb["metadata"].get("generation") or 1)
        status: dict[str, Any] = {"observedGeneration": generation}
        if disrupted:
            status["disruptedPods"] = disrupted
        status.update(disruptionsAllowed=allowed, currentHealthy=healthy, desiredHealthy=desired,
                      expectedPods=expected,
                      conditions=[dict(c) for c in old.get("conditions") or []])
        update_disruption_allowed_condition(status, stamp(self.registry.clock()))
        if status != old:
            self._put(pdb, status)

    def _fail_safe(self, pdb: dict, message: str) -> None:
        old = pdb.get("status") or {}
        status = {**old, "disruptionsAllowed": 0,
                  "conditions": [dict(c) for c in old.get("conditions") or []]}
        set_condition(status["conditions"], {
            "type": "DisruptionAllowed", "status": "False", "reason": "SyncFailed",
            "message": message, "observedGeneration": old.get("observedGeneration", 0),
        }, stamp(self.registry.clock()))
        if status != old:
            self._put(pdb, status)

    def _put(self, pdb: dict, status: dict) -> None:
        pdb["status"] = status
        try:
            self.registry.update(R.PDBS, pdb["metadata"]["namespace"], pdb["metadata"]["name"],
                                 pdb, subresource="status")
        except ApiError as exc:
            if exc.code not in (404, 409):
                raise
            self.queue.add(  # a conflict means fresher state: sync again
                (pdb["metadata"]["namespace"], pdb["metadata"]["name"]))

    def _event(self, obj: dict, kind: str, reason: str, message: str) -> None:
        involved = obj if obj.get("kind") else {**PDB_REF, "metadata": obj["metadata"]}
        self.registry.record_event(involved, kind, reason, message, "controllermanager")


def build(cluster: Cluster) -> list[Controller]:
    return [DisruptionController(cluster.registry)]
