"""Faults a drill injects: journal first, make it, see it took effect, keep a handle to undo.

Each fault (kazoo's testing harness style) records a journal entry on the cluster *before*
the change (the intent), makes the change, marks the entry applied with what the live object
looked like right after (the patched template, the node's resourceVersion), and checks that
it took effect. What it makes carries this run's mark where the object allows it (a cordon
sets ``zkdrill.io/cordoned-by: <run id>`` in the same patch), so an undo can tell this run's
change from someone else's. It returns a handle whose ``undo()`` a drill calls in the step
where the tutorial undoes it; whatever is still open when the drill ends is undone by
``restore_all`` (the ``drill`` fixture calls it), so a fault's lifetime never has to fit a
``with`` block. An entry is closed only once its undo is verified; the undo functions
(``harness.undo``) are the same ones the next run and ``pytest --zkdrill-repair`` use on what
a killed run left.

- ``cordon(node)``: cordon (only if schedulable: a node someone else cordoned is theirs;
  a 409 on the patch drops the entry and looks again);
- ``drain(node)``: ``harness.kube.drain.drain`` with its cordon journaled first;
- ``cordon_all_but(keep)``: the tutorial's "cordon all but four nodes";
- ``patch_template(sts, json_patch)``: a JSON patch of the StatefulSet's pod template (the
  patched form is computed first by a server dry run and journaled with the intent);
- ``remove_file(pod, path)``: ``rm`` a file in a container; undone when the restarted
  container has it again (liveness restarts it; if nothing does, ``restart_command`` does);
- ``hang(pod, process)``: ``kill -STOP`` the server's JVM (a long GC pause, a deadlock);
  undone by ``kill -CONT`` unless its container was restarted meanwhile;
- ``stop_node(node)``: ``--node-stop-command`` (power loss); undone by the start command;
- ``patch_rollout(sts, json_patch)``: the template and update strategy (a canary partition),
  both restored as recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.commands import NodeCommands
from harness.conditions import EventFeed, new_revision
from harness.errors import ClusterError, ConfigError, DrillFailure
from harness.journal import CORDONED_BY, Entry, Journal, Outcome
from harness.kube.client import Cluster
from harness.kube.drain import DrainOptions, DrainResult, cordon_patch, drain, is_cordoned
from harness.kube.exec import ExecResult
from harness.kube.objects import PATCH_TYPES, STATEFULSET
from harness.kube.transport import ApiError
from harness.model.disruption import ProbeTimes, container_spec
from harness.model.objects import NodeView
from harness.settings import Timeouts
from harness.undo import process_state, undoers
from harness.waits import wait_for


@dataclass
class Fault:
    """A change this drill made and has not undone yet; ``undo()`` restores and verifies."""

    faults: Faults = field(repr=False)
    entry: Entry

    @property
    def open(self) -> bool:
        return any(e.id == self.entry.id for e in self.faults.journal.mine())

    def undo(self) -> str:
        """Undo now (a no-op that says so when it is already undone)."""
        if not self.open:
            return f"{self.entry.kind} {self.entry.target}: already undone"
        return self.faults.undo(self.entry).detail


@dataclass
class TemplatePatch(Fault):
    statefulset: str = ""
    previous: dict[str, Any] = field(default_factory=dict)  # the template before the patch
    previous_revision: str = ""  # status.updateRevision before the patch
    revision: str = ""  # the new updateRevision the controller computed


@dataclass
class NodeStop(Fault):
    node: str = ""
    stopped_at: float = 0.0  # time.monotonic() when the stop command returned
    said: str = ""  # the stop command's last line of output


@dataclass
class RolloutPatch(Fault):
    statefulset: str = ""
    previous_revision: str = ""
    revision: str = ""

    def change(self, json_patch: list[dict[str, Any]] | None = None) -> None:
        """A further change of the same set under this fault (a lower partition, or after
        ``rollout undo``): the journal then knows the set as this run left it, which is
        what its undo will still recognise as its own."""
        self.entry = self.faults.record_rollout(self.entry, self.statefulset, json_patch)


@dataclass
class StatefulSetDeletion(Fault):
    statefulset: str = ""


@dataclass
class FileRemoval(Fault):
    pod: str = ""
    path: str = ""
    uid: str = ""
    container_id: str = ""
    restarts_before: int = 0
    removed_at: float = 0.0  # time.monotonic() when rm returned


@dataclass
class Hang(Fault):
    pod: str = ""
    pid: int = 0
    uid: str = ""
    container_id: str = ""
    restarts_before: int = 0
    stopped_at: float = 0.0  # time.monotonic() when the process was seen stopped


# the pids of the processes whose command name is $1 (no pgrep needed in the image)
_PIDS_OF = ('for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] && '
            'echo "${p#/proc/}"; done; true')


class Faults:
    """One drill's faults; everything it records is undone by ``restore_all`` at the end."""

    def __init__(
        self,
        cluster: Cluster,
        journal: Journal,
        *,
        container: str,
        restart_command: Sequence[str],
        timeouts: Timeouts,
        events: EventFeed | None = None,
        log: Callable[[str], None] = lambda _text: None,
        node_commands: NodeCommands | None = None,
    ) -> None:
        self.cluster = cluster
        self.journal = journal
        self.container = container
        self.restart_command = tuple(restart_command)
        self.timeouts = timeouts
        self.events = events  # the drill's PodWatcher: waits wake on pod events
        self.log = log
        self.undoers = undoers(cluster, timeouts)
        self.patched: set[str] = set()  # StatefulSets whose template this drill changed
        self.node_commands = node_commands

    # -- nodes ---------------------------------------------------------------------------------
    def cordon(self, node: str) -> bool:
        """``kubectl cordon``, journaled; False (and nothing recorded) if already cordoned."""
        done = self._cordon(node)
        self.log(f"kubectl cordon {node} -> node/{node} {'' if done else 'already '}cordoned")
        return done

    def _cordon(self, node: str, attempts: int = 5) -> bool:
        """Journal the intent, cordon with this run's annotation in the same patch (read
        resourceVersion as precondition), mark the entry applied. A 409 drops the entry: the
        node changed; if someone else cordoned it, it is theirs, else try again."""
        run = self.journal.owner.run_id
        for _ in range(attempts):
            current = self.cluster.node(node)
            if current is None:
                raise ClusterError(f"node {node} does not exist")
            if is_cordoned(current):
                return False
            entry = self.journal.record("cordon", f"node/{node}", {"node": node})
            try:
                result = cordon_patch(self.cluster, node, current["metadata"]["resourceVersion"],
                                      {CORDONED_BY: run})
            except ApiError as exc:
                self.journal.close(entry.id)  # nothing of ours was made
                if not exc.conflict:
                    raise
                self.log(f"kubectl cordon {node} -> 409 (the node changed); entry dropped")
                continue
            self.journal.mark_applied(entry, {
                "resourceVersion": result["metadata"]["resourceVersion"],
                "annotation": {CORDONED_BY: run}})
            return True
        raise DrillFailure(f"node {node} kept changing under the cordon ({attempts} attempts)")

    def uncordon(self, node: str) -> bool:
        """Undo *our* cordon of ``node`` now; a node we did not cordon is left alone."""
        mine = [e for e in self.journal.mine() if e.kind == "cordon" and e.undo["node"] == node]
        for entry in mine:
            self.undo(entry)
        self.log(f"kubectl uncordon {node} -> " + ("uncordoned" if mine else
                                                   "not ours, left as it is"))
        return bool(mine)

    def uncordon_all(self) -> list[str]:
        """Undo every cordon this drill made (nodes others cordoned stay as they are)."""
        nodes = sorted({e.undo["node"] for e in self.journal.mine() if e.kind == "cordon"})
        for node in nodes:
            self.uncordon(node)
        return nodes

    def drain(self, node: str, *, timeout: float, options: DrainOptions | None = None
              ) -> DrainResult:
        """``kubectl drain --ignore-daemonsets --delete-emptydir-data NODE``, cordon journaled."""
        result = drain(self.cluster, node, timeout=timeout, options=options,
                       cordon_node=self._cordon)
        self.log(f"kubectl drain {node}:\n{result.describe()}")
        return result

    def cordon_all_but(self, keep: int, prefer: Sequence[str] = ()) -> list[str]:
        """Cordon every schedulable node but ``keep`` (``prefer``red ones kept first); return
        the kept ones. Fewer than ``keep`` schedulable nodes is a ``DrillFailure``."""
        schedulable = sorted(n.name for n in map(NodeView, self.cluster.nodes())
                             if n.schedulable)
        if len(schedulable) < keep:
            raise DrillFailure(f"the drill needs {keep} schedulable nodes, the cluster has "
                               f"{len(schedulable)}: {', '.join(schedulable) or 'none'}")
        kept = [n for n in prefer if n in schedulable][:keep]
        kept += [n for n in schedulable if n not in kept][: keep - len(kept)]
        for node in schedulable:
            if node not in kept:
                self.cordon(node)
        return kept

    def stop_node(self, node: str) -> NodeStop:
        """Power the node off (``--node-stop-command``); ``undo()`` starts it again."""
        if self.node_commands is None:
            raise DrillFailure("no way to stop a node: pass --node-stop-command and "
                               "--node-start-command (localkube has its own)")
        entry = self.journal.record("node", f"node/{node}", {
            "node": node, "start_command": self.node_commands.start})
        try:
            said = self.node_commands.run("stop", node)
        except ClusterError as exc:
            self.undo(entry)  # runs the start command: nothing is left changed
            raise ConfigError(f"could not stop node/{node}: {exc}",
                              hint="check --node-stop-command") from exc
        entry = self.journal.mark_applied(entry, {"stopped": said})
        self.log(f"stop node/{node} -> {said}")
        return NodeStop(self, entry, node, time.monotonic(), said)

    # -- the StatefulSet template ----------------------------------------------------------------
    def patch_template(self, name: str, json_patch: list[dict[str, Any]]) -> TemplatePatch:
        """``kubectl patch sts NAME --type=json -p PATCH``, once the controller has computed
        the new revision; ``undo()`` puts the recorded template back."""
        sts = self._statefulset(name)
        previous = sts["spec"]["template"]
        old_revision = (sts.get("status") or {}).get("updateRevision", "")
        # the patched form as the API computes it (a dry run): what the undo expects to find
        expected = self.cluster.transport.request(
            "PATCH", STATEFULSET.path(self.cluster.namespace, name), body=json_patch,
            content_type=PATCH_TYPES["json"], query=[("dryRun", "All")])["spec"]["template"]
        if expected == previous:
            raise DrillFailure(f"the patch {json_patch} would not change the template of {name}")
        entry = self.journal.record("template", f"statefulset/{self.cluster.namespace}/{name}",
                                    {"statefulset": name, "template": previous,
                                     "patched": expected})
        self.patched.add(name)
        patched = self.cluster.patch(STATEFULSET, name, json_patch, "json")
        entry = self.journal.mark_applied(entry, {
            "template": patched["spec"]["template"],
            "resourceVersion": patched["metadata"]["resourceVersion"]})
        self.log(f"kubectl patch sts {name} --type=json -p '{json_patch}' -> patched")
        if patched["spec"]["template"] == previous:
            raise DrillFailure(f"the patch {json_patch} did not change the template of {name}")
        seen = wait_for(new_revision(self.events, self.cluster, name, old_revision),
                        timeout=self.timeouts.step, recheck=1.0)
        return TemplatePatch(self, entry, name, previous, old_revision, seen.detail)

    def patch_rollout(self, name: str, json_patch: list[dict[str, Any]]) -> RolloutPatch:
        """A JSON patch of the template and/or update strategy (an image change behind a
        partition); ``undo()`` restores both as recorded. Waits for the new revision only
        when the template changed."""
        sts = self._statefulset(name)
        spec = sts["spec"]
        old_revision = (sts.get("status") or {}).get("updateRevision", "")
        entry = self.journal.record("rollout", f"statefulset/{self.cluster.namespace}/{name}", {
            "statefulset": name, "template": spec["template"],
            "update_strategy": spec.get("updateStrategy") or {"type": "RollingUpdate"}})
        self.patched.add(name)
        entry = self.record_rollout(entry, name, json_patch)
        revision = old_revision
        if self._statefulset(name)["spec"]["template"] != spec["template"]:
            revision = wait_for(new_revision(self.events, self.cluster, name, old_revision),
                                timeout=self.timeouts.step, recheck=1.0).detail
        return RolloutPatch(self, entry, name, old_revision, revision)

    def record_rollout(self, entry: Entry, name: str,
                       json_patch: list[dict[str, Any]] | None) -> Entry:
        """Apply ``json_patch`` (if any) to the set and mark ``entry`` applied with the
        template and update strategy the set has now."""
        if json_patch:
            self.cluster.patch(STATEFULSET, name, json_patch, "json")
            self.log(f"kubectl patch sts {name} --type=json -p '{json_patch}' -> patched")
        spec = self._statefulset(name)["spec"]
        return self.journal.mark_applied(entry, {
            "template": spec["template"], "update_strategy": spec.get("updateStrategy")})

    def delete_statefulset(self, name: str, document: dict[str, Any]) -> StatefulSetDeletion:
        """``kubectl delete statefulset NAME`` (pods go, claims stay); ``undo()`` creates it
        again from ``document`` (the manifest's, or the live set as the session found it)."""
        self._statefulset(name)
        entry = self.journal.record("statefulset", f"statefulset/{self.cluster.namespace}/{name}",
                                    {"document": document})
        self.cluster.delete_statefulset(name)
        entry = self.journal.mark_applied(entry, {"deleted": name})
        self.log(f"kubectl delete statefulset {name} -> statefulset.apps \"{name}\" deleted")
        return StatefulSetDeletion(self, entry, name)

    def _statefulset(self, name: str) -> dict[str, Any]:
        sts = self.cluster.statefulset(name)
        if sts is None:
            raise DrillFailure(f"statefulset {self.cluster.namespace}/{name} does not exist")
        return sts

    # -- files in a container --------------------------------------------------------------------
    def remove_file(self, pod: str, path: str) -> FileRemoval:
        """``kubectl exec POD -- rm PATH``; undone once the restarted container has it again."""
        current = self.cluster.pod(pod)
        if current is None:
            raise DrillFailure(f"pod {pod} does not exist")
        status = _container_status(current, self.container)
        spec = container_spec(current["spec"], self.container)
        liveness = ProbeTimes.of(spec.get("livenessProbe"))
        entry = self.journal.record("script", f"pod/{self.cluster.namespace}/{pod}:{path}", {
            "pod": pod, "uid": current["metadata"]["uid"], "container": self.container,
            "path": path, "container_id": status.get("containerID", ""),
            "restart_command": list(self.restart_command),
            "budget": liveness.latest_action if liveness else 0.0,
            "labels": current["metadata"].get("labels") or {},
        })
        removed = self._exec(pod, ["rm", path])
        removed_at = time.monotonic()
        if removed.exit_code != 0:
            self.undo(entry)
            raise DrillFailure(f"could not remove {path}: {removed.describe()}")
        entry = self.journal.mark_applied(entry, {"container_id": status.get("containerID", "")})
        if self._exec(pod, ["test", "-e", path]).exit_code == 0:
            self.undo(entry)
            raise DrillFailure(f"{path} is still there in {pod} after rm")
        return FileRemoval(self, entry, pod, path, current["metadata"]["uid"],
                           status.get("containerID", ""), int(status.get("restartCount") or 0),
                           removed_at)

    # -- a hung server ---------------------------------------------------------------------------
    def hang(self, pod: str, process: str) -> Hang:
        """``kubectl exec POD -- kill -STOP <pid of PROCESS>``: the server hangs (its port
        stays open, it answers nothing); checked in ``/proc``; undone by ``kill -CONT``
        unless its container is restarted first (what a liveness probe should do)."""
        current = self.cluster.pod(pod)
        if current is None:
            raise DrillFailure(f"pod {pod} does not exist")
        status = _container_status(current, self.container)
        found = self._exec(pod, ["sh", "-c", _PIDS_OF, "sh", process])
        pids = sorted(int(p) for p in found.stdout.split() if p.isdigit())
        if not pids:
            raise DrillFailure(f"no {process} process in {pod}'s container {self.container}: "
                               f"{found.describe()}")
        pid = pids[0]
        entry = self.journal.record("hang", f"pod/{self.cluster.namespace}/{pod}:{pid}", {
            "pod": pod, "uid": current["metadata"]["uid"], "container": self.container,
            "pid": pid, "process": process, "container_id": status.get("containerID", ""),
        })
        stopped = self._exec(pod, ["sh", "-c", f"kill -STOP {pid}"])
        if stopped.exit_code != 0:
            self.undo(entry)
            raise DrillFailure(f"could not stop {process} ({pid}) in {pod}: "
                               f"{stopped.describe()}")
        state = process_state(self.cluster, pod, self.container, pid)
        if state != "T":
            self.undo(entry)
            raise DrillFailure(f"{process} ({pid}) in {pod} is in state {state!r} after "
                               "kill -STOP, not stopped (T)")
        return Hang(self, entry, pod, pid, current["metadata"]["uid"],
                    status.get("containerID", ""), int(status.get("restartCount") or 0),
                    time.monotonic())

    def _exec(self, pod: str, command: list[str]) -> ExecResult:
        result = self.cluster.exec(pod, command, container=self.container, timeout=60)
        self.log(result.describe())
        return result

    # -- undo ------------------------------------------------------------------------------------
    def restore_all(self) -> list[Outcome]:
        """Undo everything this run still has open, newest first."""
        outcomes = self.journal.undo_all(self.journal.mine(), self.undoers)
        for outcome in outcomes:
            self.log(outcome.describe())
        return outcomes

    def undo(self, entry: Entry) -> Outcome:
        """Undo one entry now; ``DrillFailure`` (entry kept for the repair) if it fails."""
        outcome = self.journal.undo(entry, self.undoers)
        self.log(outcome.describe())
        if not outcome.ok:
            raise DrillFailure(f"could not undo {entry.kind} {entry.target}: {outcome.detail} "
                               "(left in the journal for the next run or --zkdrill-repair)")
        return outcome


def _container_status(pod: Mapping[str, Any], container: str) -> dict[str, Any]:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return dict(status)
    return {}
