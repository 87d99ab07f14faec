"""Cordon, uncordon, evict and drain a node, as ``kubectl drain --ignore-daemonsets
--delete-emptydir-data`` does, but returning what happened instead of printing it.

Why a harness function and not ``kubectl``: a drill must know *which* eviction was refused,
with the PDB's own words, and bound the wait (kubectl retries a refused eviction forever).

- ``cordon`` patches ``spec.unschedulable`` only when the node is schedulable, with the read
  resourceVersion as a precondition, and says whether *it* cordoned (a node someone else
  cordoned is left to them). ``before`` runs first, so a journal records the cordon before
  it exists. ``cordon_patch`` is the one patch, for callers (``harness.faults``) that journal
  the intent, mark the node as theirs in the same patch and handle a 409 themselves.
- ``drain`` lists the node's pods (``spec.nodeName`` field selector, every namespace), applies
  kubectl's filters in kubectl's order (``classify``), evicts the rest concurrently through
  ``pods/eviction`` (policy/v1), retries a 429 every ``retry_every`` seconds until its
  deadline, and after a 201 watches the pod until it is gone or replaced (another UID).
- ``try_evict`` is one attempt, for "the eviction stays refused for N seconds" checks.

The decisions and the result records are pure and live in ``harness.model.drain``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import urllib3

from harness.errors import ClusterError
from harness.kube.objects import NODE, POD, Objects
from harness.kube.transport import ApiError, Transport, release
from harness.kube.watch import _lines
from harness.model.drain import (
    PDB_REFUSAL,
    DrainOptions,
    DrainResult,
    EvictionAnswer,
    PodDrain,
    classify,
    grouped,
)

__all__ = [
    "PDB_REFUSAL",
    "DrainOptions",
    "DrainResult",
    "EvictionAnswer",
    "cordon",
    "cordon_patch",
    "drain",
    "is_cordoned",
    "try_evict",
    "uncordon",
    "wait_pod_gone",
]

# -- cordon ------------------------------------------------------------------------------------


def is_cordoned(node: Mapping[str, Any]) -> bool:
    return bool((node.get("spec") or {}).get("unschedulable"))


def cordon(cluster: Objects, node: str, *, before: Callable[[str], object] | None = None,
           annotations: Mapping[str, str] | None = None) -> bool:
    """``kubectl cordon``; True if this call cordoned it, False if it already was.

    The patch carries the resourceVersion read, so a concurrent change is a 409, never a
    cordon the harness would later "undo" on someone else's behalf.
    """
    current = cluster.node(node)
    if current is None:
        raise ClusterError(f"node {node} does not exist")
    if is_cordoned(current):
        return False
    if before is not None:
        before(node)
    cordon_patch(cluster, node, current["metadata"]["resourceVersion"], annotations)
    return True


def cordon_patch(cluster: Objects, node: str, resource_version: str,
                 annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One cordon patch, with ``annotations`` set in the same patch and the read
    resourceVersion as a precondition (``ApiError`` 409 if the node changed since)."""
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if annotations:
        meta["annotations"] = dict(annotations)
    result = cluster.patch(NODE, node, {"metadata": meta, "spec": {"unschedulable": True}})
    if not is_cordoned(result):
        raise ClusterError(f"node {node} is still schedulable after the cordon patch")
    return result


def uncordon(cluster: Objects, node: str) -> bool:
    """``kubectl uncordon``; True if it changed anything. A missing node counts as done."""
    current = cluster.node(node)
    if current is None or not is_cordoned(current):
        return False
    result = cluster.patch(NODE, node, {"spec": {"unschedulable": None}})
    if is_cordoned(result):
        raise ClusterError(f"node {node} is still cordoned after the uncordon patch")
    return True


def try_evict(
    transport: Transport,
    namespace: str,
    name: str,
    *,
    grace_period: int | None = None,
    dry_run: bool = False,
) -> EvictionAnswer:
    """One eviction attempt; a refusal is an answer, not an exception (other errors raise)."""
    body: dict[str, Any] = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
    }
    options: dict[str, Any] = {}
    if grace_period is not None:
        options["gracePeriodSeconds"] = grace_period
    if dry_run:
        options["dryRun"] = ["All"]
    if options:
        body["deleteOptions"] = options
    who = f"{namespace}/{name}"
    try:
        transport.request("POST", POD.path(namespace, name, "eviction"), body=body)
    except ApiError as exc:
        if exc.status not in (404, 429):
            raise
        causes = tuple(
            str(c.get("message") or c.get("reason") or "")
            for c in (getattr(exc, "details", None) or {}).get("causes") or []
        )
        return EvictionAnswer(who, exc.status, exc.message, causes)
    return EvictionAnswer(who, 201)


def drain(
    cluster: Objects,
    node: str,
    *,
    timeout: float,
    options: DrainOptions | None = None,
    before_cordon: Callable[[str], object] | None = None,
    cordon_node: Callable[[str], bool] | None = None,
) -> DrainResult:
    """Cordon (if needed) and evict every pod on ``node``; wait until each is gone.

    Returns when every pod is gone or replaced, or at ``timeout`` with the rest still
    refused or pending (it never raises for a refusal: the drill decides what that means).
    """
    options = options or DrainOptions()
    started = time.monotonic()
    deadline = started + timeout
    ours = cordon_node(node) if cordon_node is not None else \
        cordon(cluster, node, before=before_cordon)
    transport = cluster.transport
    query: list[tuple[str, str | int | bool]] = [("fieldSelector", f"spec.nodeName={node}")]
    if options.pod_selector:
        query.append(("labelSelector", options.pod_selector))
    listed = transport.request("GET", "/api/v1/pods", query=query).get("items") or []
    chosen, skipped, warnings, errors = [], [], [], []
    for pod in listed:
        meta = pod["metadata"]
        verdict = classify(pod, options, lambda ns, n: _daemonset_exists(transport, ns, n))
        key = f"{meta['namespace']}/{meta['name']}"
        if verdict.kind == "warning":
            warnings.append((verdict.message, key))
        elif verdict.kind == "error":
            errors.append((verdict.message, key))
        if verdict.delete:
            chosen.append(PodDrain(meta["namespace"], meta["name"], meta.get("uid", "")))
        elif verdict.kind != "error":
            skipped.append(key)
    if errors:
        error_lines = [
            e if e.lower().startswith("cannot delete") else f"cannot delete {e}"
            for e in grouped(errors)
        ]
        return DrainResult(
            node,
            ours,
            (),
            tuple(skipped),
            tuple(grouped(warnings)),
            tuple(error_lines),
            time.monotonic() - started,
        )
    cancel = threading.Event()
    if chosen:
        with ThreadPoolExecutor(max_workers=min(len(chosen), 16)) as pool:
            futures = [
                pool.submit(_evict_until_gone, transport, p, options, started, deadline, cancel)
                for p in chosen
            ]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                cancel.set()  # Ctrl-C or a timeout: let the workers stop at their next wait
                raise
    return DrainResult(
        node,
        ours,
        tuple(chosen),
        tuple(skipped),
        tuple(grouped(warnings)),
        (),
        time.monotonic() - started,
    )


def _evict_until_gone(
    transport: Transport,
    pod: PodDrain,
    options: DrainOptions,
    started: float,
    deadline: float,
    cancel: threading.Event,
) -> None:
    try:
        while not cancel.is_set():
            answer = try_evict(
                transport, pod.namespace, pod.name, grace_period=options.grace_period
            )
            pod.answers.append(answer)
            if answer.code == 404:
                pod.gone_after = time.monotonic() - started
                return
            if answer.allowed:
                pod.evicted_after = time.monotonic() - started
                if wait_pod_gone(transport, pod.namespace, pod.name, pod.uid, deadline, cancel):
                    pod.gone_after = time.monotonic() - started
                return
            pause = min(options.retry_every, deadline - time.monotonic())
            if pause <= 0 or cancel.wait(pause):  # kubectl's retry pace, not synchronisation
                return
    except (ClusterError, urllib3.exceptions.HTTPError, OSError) as exc:
        pod.error = str(exc)


def wait_pod_gone(
    transport: Transport,
    namespace: str,
    name: str,
    uid: str,
    deadline: float,
    cancel: threading.Event | None = None,
) -> bool:
    """Watch (not poll) until the pod with ``uid`` is deleted or replaced; False at deadline."""
    path = POD.path(namespace)
    selector = f"metadata.name={name}"
    while cancel is None or not cancel.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        body = transport.request("GET", path, query=[("fieldSelector", selector)])
        items = body.get("items") or []
        if not any((i.get("metadata") or {}).get("uid") == uid for i in items):
            return True
        rv = str((body.get("metadata") or {}).get("resourceVersion") or "")
        window = max(1, int(min(remaining, 10.0)))  # short, so a cancel is seen quickly
        response = transport.open(
            "GET",
            path,
            timeout=(10.0, window + 10.0),
            query=[
                ("watch", True),
                ("fieldSelector", selector),
                ("resourceVersion", rv),
                ("timeoutSeconds", window),
            ],
        )
        try:
            for line in _lines(response):
                event = json.loads(line)
                obj_uid = ((event.get("object") or {}).get("metadata") or {}).get("uid")
                if event.get("type") == "ERROR":
                    break  # expired: re-list
                if event.get("type") == "BOOKMARK":
                    continue
                if obj_uid != uid or event.get("type") == "DELETED":
                    return True
        finally:
            release(response)
    return False


def _daemonset_exists(transport: Transport, namespace: str, name: str) -> bool:
    try:
        transport.request("GET", f"/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}")
    except ApiError as exc:
        if exc.not_found:
            return False
        raise
    return True
