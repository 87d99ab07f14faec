"""Undo, for the plugin: a drill's faults and their end check, and the journal's replay.

- ``faults_factory``: how a ``Drill`` gets its ``Faults`` (journaled in the namespace's
  ConfigMap under the session's run id); on a real cluster the destructive opt-in is
  checked again on first use (defence in depth: the run was already refused at collection).
- ``restore_and_check``: at the end of a drill, undo whatever it left open, then assert that
  no node is cordoned that was not before and that the StatefulSet's pod template equals
  the manifest's (or the one the drill found, with ``--use-existing``).
- ``replay``: undo the entries of runs that are over (the next run, ``--zkdrill-repair``);
  a run is over when its Lease is absent or expired (``run_alive``); ``pending`` lists
  them without touching anything (a real cluster without the destructive opt-in).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.commands import NodeCommands
from harness.errors import DrillFailure
from harness.journal import ConfigMapStore, Entry, Journal, Outcome, Owner
from harness.plugin.options import REPAIR_FLAG
from harness.safety import active_context, require_destructive
from harness.settings import Settings, Timeouts

if TYPE_CHECKING:
    from harness.conditions import PodSource
    from harness.drilling import Drill
    from harness.faults import Faults
    from harness.kube.client import Cluster
    from harness.model.progress import Progress
    from harness.waits import Condition


def faults_factory(settings: Settings, cluster: Cluster,
                   node_commands: NodeCommands | None = None, *,
                   own_run: Callable[[Cluster, str], object] | None = None
                   ) -> Callable[[Drill], Faults]:
    """``own_run(cluster, run_id)`` takes the run's Lease before the first journal entry."""

    def make(drill: Drill) -> Faults:
        from harness.faults import Faults

        if settings.cluster != "local":
            require_destructive(settings, active_context(settings))
        if own_run is not None:
            own_run(cluster, drill.run_id)
        journal = Journal(ConfigMapStore(cluster.transport, cluster.namespace),
                          Owner.current(drill.run_id))
        return Faults(cluster, journal, container=drill.target.container,
                      restart_command=("pkill", drill.profile.process_name),
                      timeouts=settings.timeouts, events=drill.pods, log=drill.command,
                      node_commands=node_commands)

    return make


@dataclass(frozen=True)
class ClusterBefore:
    """What the end check compares with: cordoned nodes and the live pod template."""

    cordoned: frozenset[str]
    template: dict[str, Any]

    @classmethod
    def of(cls, cluster: Cluster, statefulset: str) -> ClusterBefore:
        from harness.kube.drain import is_cordoned

        live = cluster.statefulset(statefulset)
        if live is None:
            raise DrillFailure(f"statefulset {statefulset} does not exist")
        return cls(frozenset(n["metadata"]["name"] for n in cluster.nodes() if is_cordoned(n)),
                   live["spec"]["template"])


def restore_and_check(drill: Drill, cluster: Cluster, before: ClusterBefore) -> None:
    """Undo every fault still open; fail naming anything not as it was before the drill."""
    from harness.kube.drain import is_cordoned

    made = drill.faults_used
    with drill.recorder("undo every fault; no node left cordoned; the template is the "
                        "manifest's"):
        problems = []
        if made is not None:
            problems += [o.describe() for o in made.restore_all() if not o.ok]
            problems += [f"journal entry still open: {e.describe()}" for e in made.journal.mine()]
        cordoned = {n["metadata"]["name"] for n in cluster.nodes() if is_cordoned(n)}
        problems += [f"node/{n} is cordoned and was not before the drill"
                     for n in sorted(cordoned - before.cordoned)]
        problems += _template_problems(drill, cluster, before.template)
        if not problems and made is not None:
            _settle(drill, cluster, made.patched)
        drill.note("cluster restored", not problems, "; ".join(problems) or
                   "as before the drill")
        if problems:
            raise DrillFailure("the drill did not leave the cluster as it found it: "
                               + "; ".join(problems))


def _settle(drill: Drill, cluster: Cluster, patched: set[str]) -> None:
    """Pods of an abandoned revision are replaced before the ensemble's end check looks."""
    for name in sorted(patched):
        for line in settle_rollout(drill.wait, cluster, drill.pods, name):
            drill.note("forced rollback", True, line)


def settle_rollout(wait: Callable[[Condition], Progress], cluster: Cluster, pods: PodSource,
                   name: str) -> list[str]:
    """Wait (with ``wait``) until every pod of StatefulSet ``name`` is Ready on its update
    revision; say which pods it had to delete on the way.

    A pod stuck on an abandoned revision (an image that cannot be pulled) is deleted: under
    ``OrderedReady`` the controller waits for it to become Ready and never replaces it, so a
    restored template alone does not roll back (Kubernetes' "forced rollback": the pods
    already tried with the bad configuration must be deleted by hand). A pod stuck on the
    restored revision is not this run's doing and fails the wait.
    """
    from harness.conditions import giving_up_when_stuck, rollout_settled
    from harness.errors import PodCannotStart

    deleted: list[str] = []
    replicas = int(((cluster.statefulset(name) or {}).get("spec") or {}).get("replicas") or 0)
    names = [f"{name}-{i}" for i in range(replicas)]
    for _ in range(replicas + 1):
        try:
            wait(giving_up_when_stuck(rollout_settled(pods, cluster, name), pods, names))
            return deleted
        except PodCannotStart as exc:
            revision = ((cluster.statefulset(name) or {}).get("status") or {}).get(
                "updateRevision")
            pod = cluster.pod(exc.pod) or {}
            if ((pod.get("metadata") or {}).get("labels") or {}).get(
                    "controller-revision-hash") == revision:
                raise
            cluster.delete_pod(exc.pod)
            deleted.append(f"deleted {exc.pod}, stuck on an abandoned revision ({exc})")
    raise DrillFailure(f"statefulset {name}: pods kept getting stuck on abandoned revisions: "
                       + "; ".join(deleted))


def _template_problems(drill: Drill, cluster: Cluster, before: dict[str, Any]) -> list[str]:
    from harness.undo import manifest_drift

    name = drill.target.statefulset
    if drill.ensemble.manifest is not None:
        drift = manifest_drift(cluster, drill.ensemble.manifest.statefulset(name))
        return [drift] if drift else []
    live = cluster.statefulset(name)
    if live is None or live["spec"]["template"] != before:
        return [f"statefulset {name}: the pod template differs from the one the drill found"]
    return []


def replay(cluster: Cluster, timeouts: Timeouts) -> tuple[list[Outcome], list[Any]]:
    """Undo the entries of runs that are over; return outcomes and the live runs' entries."""
    from harness.undo import undoers

    journal = replay_journal(cluster)
    leftovers, live = journal.leftovers(run_alive(cluster))
    return journal.undo_all(leftovers, undoers(cluster, timeouts)), live


def pending(cluster: Cluster) -> tuple[list[Entry], list[Entry]]:
    """(entries of runs that are over, entries of live runs), touching nothing."""
    return replay_journal(cluster).leftovers(run_alive(cluster))


def replay_journal(cluster: Cluster) -> Journal:
    return Journal(ConfigMapStore(cluster.transport, cluster.namespace),
                   Owner.current(f"replay{uuid.uuid4().hex[:8]}"))


def run_alive(cluster: Cluster) -> Callable[[Owner], bool]:
    """Is the run that recorded an entry still going? Its Lease says (held and not expired),
    wherever it runs; host and pid only where the cluster serves no Leases."""
    from harness.kube.lease import run_state

    def alive(owner: Owner) -> bool:
        state = run_state(cluster.transport, cluster.namespace, owner.run_id)
        if state == "unserved":
            return owner.alive_elsewhere()
        return state == "held"

    return alive


def unfinished_line(entries: list[Entry], settings: Settings, context: str) -> str:
    """One line: an unfinished run left changes here (who, when, what), and how to repair."""
    runs = sorted({e.owner for e in entries}, key=lambda o: o.run_id)
    who = "; ".join(f"run {o.run_id} (pid {o.pid} on {o.host}, since "
                    f"{min(e.recorded for e in entries if e.owner == o)})" for o in runs)
    what = ", ".join(f"{e.kind} {e.target}" for e in entries)
    where = [f"--kubeconfig={settings.kubeconfig}"] if settings.kubeconfig else []
    command = " ".join(["pytest", REPAIR_FLAG, "--cluster=kube", *where,
                        f"--context={context}", f"--namespace={settings.namespace}",
                        "--allow-destructive", f"--confirm-context={context}"])
    return (f"zkdrill: an unfinished run left changes in namespace {settings.namespace}: "
            f"{who}: {what}; left as they are (no destructive opt-in); repair with: {command}")


def _set_to_settle(outcome: Outcome) -> str | None:
    """The StatefulSet whose pods an undo made roll (a template put back, a set created
    again), or None."""
    from harness.undo import RESTORED

    entry = outcome.entry
    if not outcome.ok:
        return None
    if entry.kind in ("template", "rollout") and RESTORED in outcome.detail:
        return str(entry.undo["statefulset"])
    if entry.kind == "statefulset" and "created again" in outcome.detail:
        return str(entry.undo["document"]["metadata"]["name"])
    return None


def wait_rolled_out(cluster: Cluster, outcomes: list[Outcome], timeout: float) -> list[str]:
    """After restoring templates, wait until their pods are all back on the restored one."""
    from harness.kube.objects import label_selector
    from harness.waits import wait_for

    lines = []
    for name in sorted({n for n in map(_set_to_settle, outcomes) if n is not None}):
        sts = cluster.statefulset(name)
        if sts is None:
            continue
        selector = label_selector(sts["spec"]["selector"].get("matchLabels") or {})
        watcher = cluster.watch_pods(selector)  # wakes the wait on every pod change
        try:
            forced = settle_rollout(lambda c: wait_for(c, timeout=timeout, recheck=2.0),
                                    cluster, watcher, name)
        finally:
            watcher.stop()
        lines += [f"statefulset {name}: forced rollback: {line}" for line in forced]
        revision = ((cluster.statefulset(name) or {}).get("status") or {}).get("updateRevision")
        lines.append(f"statefulset {name}: every pod Ready at {revision}")
    return lines
