"""The `pods/eviction` subresource: a pod delete that honours PodDisruptionBudgets.

Follows kube-apiserver's EvictionREST: pods that cannot count as healthy (terminal, Pending,
already terminating) are deleted without consulting budgets; otherwise the single matching
budget must allow a disruption, which is spent (decrement + `disruptedPods` entry written
through the PDB status) before the pod is deleted. A refusal is 429 *without*
`retryAfterSeconds`, so client-go hands it to `kubectl drain` (which prints it and retries
every 5 s) instead of retrying silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.apimachinery import errors as E
from localkube.apimachinery.selectors import LabelSelector
from localkube.registry.podutil import is_ready, is_terminal, is_terminating, set_condition, stamp

if TYPE_CHECKING:
    from localkube.registry.core import Registry

EVICTION_VERSIONS = ("policy/v1", "policy/v1beta1")
MAX_DISRUPTED_PODS = 2000
BUDGET_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
MULTIPLE_PDBS = ("This pod has more than one PodDisruptionBudget, which the eviction "
                 "subresource does not support.")
PDB_RESOURCE = "poddisruptionbudget.policy"


def update_disruption_allowed_condition(status: dict, now: str) -> None:
    """`pdbhelper.UpdateDisruptionAllowedCondition`: SufficientPods iff disruptions allowed.

    Shared with the disruption controller so both writers produce identical conditions.
    """
    allowed = int(status.get("disruptionsAllowed") or 0) > 0
    wanted = {
        "type": "DisruptionAllowed",
        "status": "True" if allowed else "False",
        "reason": "SufficientPods" if allowed else "InsufficientPods",
        "message": "",
        "observedGeneration": status.get("observedGeneration", 0),
    }
    set_condition(status.setdefault("conditions", []), wanted, now)


def _budget_error(name: str, message: str, retry_after: int | None = None) -> E.ApiError:
    return E.too_many_requests(BUDGET_MESSAGE, causes=[{"reason": "DisruptionBudget",
                                                        "message": message}],
                               retry_after=retry_after)


def _still_processing(name: str) -> E.ApiError:
    """The one 429 that suggests a retry: the controller has not caught up yet."""
    return _budget_error(name, f"The disruption budget {name} is still being processed by the "
                               "server.", retry_after=10)


def _unhealthy_may_go(pod: dict, pdb: dict) -> bool:
    """An unready pod may go without spending budget (`unhealthyPodEvictionPolicy`)."""
    if is_ready(pod):
        return False
    if (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
        return True
    status = pdb.get("status") or {}  # IfHealthyBudget (the default)
    return int(status.get("currentHealthy") or 0) >= int(status.get("desiredHealthy") or 0) > 0


def _check_body(namespace: str, name: str, body: object) -> dict:
    if not isinstance(body, dict):
        raise E.bad_request("the body of the request was not a JSON object")
    if body.get("kind") not in (None, "", "Eviction"):
        raise E.bad_request(f"the kind of the object ({body.get('kind')}) does not match Eviction")
    if body.get("apiVersion") not in (None, "", *EVICTION_VERSIONS):
        raise E.bad_request(f"the API version in the data ({body.get('apiVersion')}) does not "
                            "match the expected API version (policy/v1)")
    meta = body.get("metadata") or {}
    if meta.get("name") != name:
        raise E.bad_request("name in URL does not match name in Eviction object")
    if meta.get("namespace") not in (None, "", namespace):
        raise E.bad_request("the namespace of the provided object does not match the namespace "
                            "sent on the request")
    options = body.get("deleteOptions") or {}
    if not isinstance(options, dict):
        raise E.bad_request("deleteOptions must be an object")
    return dict(options)


def _can_ignore_budget(pod: dict) -> bool:
    """Pods that cannot count as healthy: deleting them disrupts nothing the budget guards."""
    pending = (pod.get("status") or {}).get("phase") == "Pending"
    return pending or is_terminal(pod) or is_terminating(pod)


def _with_rv_precondition(options: dict, rv: str) -> dict:
    options = dict(options)
    options["preconditions"] = {**(options.get("preconditions") or {}), "resourceVersion": rv}
    return options


def _rv_unset(options: dict) -> bool:
    return not (options.get("preconditions") or {}).get("resourceVersion")


def _matching_budgets(registry: Registry, pod: dict) -> list[dict]:
    """Budgets in the pod's namespace whose non-empty selector matches the pod."""
    labels = pod["metadata"].get("labels") or {}
    out = []
    for pdb, _ in registry.store.scan(R.PDBS.key, pod["metadata"]["namespace"]):
        try:
            selector = LabelSelector.from_api((pdb.get("spec") or {}).get("selector"))
        except E.ApiError:
            continue
        if selector.matches_nothing or selector.empty or not selector.matches(labels):
            continue
        out.append(pdb)
    return out


def _delete(registry: Registry, namespace: str, name: str, options: dict) -> None:
    """`addConditionAndDeletePod`: mark DisruptionTarget, then delete with the options."""
    dry_run = bool(options.get("dryRun"))
    if not dry_run:
        pre = options.get("preconditions") or {}
        current = registry.get(R.PODS, namespace, name)
        meta = current["metadata"]
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise E.conflict("Pod", name, f"the UID in the precondition ({pre['uid']}) does not "
                                          f"match the UID in record ({meta.get('uid')}). The "
                                          "object might have been replaced")
        rv = pre.get("resourceVersion")
        if rv and str(rv) != meta["resourceVersion"]:
            raise E.conflict("Pod", name, f"the ResourceVersion in the precondition ({rv}) does "
                                          "not match the ResourceVersion in record "
                                          f"({meta['resourceVersion']}). The object might have "
                                          "been modified")
        now = stamp(registry.clock())

        def mark(pod: dict) -> None:
            conditions = pod.setdefault("status", {}).setdefault("conditions", [])
            set_condition(conditions, {
                "type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                "reason": "EvictionByEvictionAPI", "message": "Eviction API: evicting",
            }, now)

        updated = registry.mutate(R.PODS, namespace, name, mark, subresource="status")
        if updated is not None and not _rv_unset(options):
            options = _with_rv_precondition(options, updated["metadata"]["resourceVersion"])
    registry.delete(R.PODS, namespace, name, options)


def _spend_budget(registry: Registry, pdb: dict, pod_name: str, dry_run: bool) -> None:
    """`checkAndDecrement`: refuse (429/403) or take one disruption and record the pod."""
    name = pdb["metadata"]["name"]
    pdb = registry.get(R.PDBS, pdb["metadata"]["namespace"], name)  # a copy we may change
    status = pdb.setdefault("status", {})
    if int(status.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 0):
        raise _still_processing(name)
    allowed = int(status.get("disruptionsAllowed") or 0)
    if allowed < 0:
        raise E.forbidden(PDB_RESOURCE, name, "pdb disruptions allowed is negative")
    if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_PODS:
        raise E.forbidden(PDB_RESOURCE, name, "DisruptedPods map too big - too many evictions "
                                              "not confirmed by PDB controller")
    if allowed == 0:
        raise _budget_error(name, f"The disruption budget {name} needs "
                                  f"{int(status.get('desiredHealthy') or 0)} healthy pods and has "
                                  f"{int(status.get('currentHealthy') or 0)} currently")
    status["disruptionsAllowed"] = allowed - 1
    now = stamp(registry.clock())
    if allowed - 1 == 0:
        update_disruption_allowed_condition(status, now)
    if dry_run:
        return
    status["disruptedPods"] = {**(status.get("disruptedPods") or {}), pod_name: now}
    registry.update(R.PDBS, pdb["metadata"]["namespace"], name, pdb, subresource="status")


def evict(registry: Registry, namespace: str, name: str, body: dict, *,
          dry_run: bool = False) -> tuple[int, dict]:
    """Handle `POST …/pods/{name}/eviction`; returns (201, Status) or raises `ApiError`.

    Errors never carry `retry_after` except the "still being processed" case, matching the
    apiserver; the HTTP layer sends `Retry-After` only when `retry_after` is set.
    """
    options = _check_body(namespace, name, body)
    if dry_run:
        options["dryRun"] = ["All"]
    dry_run = bool(options.get("dryRun"))
    pod = registry.get(R.PODS, namespace, name)
    if _can_ignore_budget(pod):
        if not is_terminal(pod) and not is_terminating(pod) and _rv_unset(options):
            options = _with_rv_precondition(options, pod["metadata"]["resourceVersion"])
        _delete(registry, namespace, name, options)
        return 201, E.success_status(201)
    budgets = _matching_budgets(registry, pod)
    if len(budgets) > 1:
        raise E.unknown(MULTIPLE_PDBS, 500)
    if not budgets:
        _delete(registry, namespace, name, options)
        return 201, E.success_status(201)
    pdb = budgets[0]
    if not _unhealthy_may_go(pod, pdb):
        _spend_budget(registry, pdb, name, dry_run)
        _delete(registry, namespace, name, options)
        return 201, E.success_status(201)
    # Evicted without spending budget because unready: it must not turn Ready meanwhile.
    pinned = _with_rv_precondition(options, pod["metadata"]["resourceVersion"])
    try:
        _delete(registry, namespace, name, pinned)
    except E.ApiError as exc:
        if exc.code == 409 and _rv_unset(options):
            raise _still_processing(pdb["metadata"]["name"]) from exc
        raise
    return 201, E.success_status(201)
