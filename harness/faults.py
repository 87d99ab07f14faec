"""Faults a drill injects, as context managers: journal first, make it, see it, undo it.

Each fault (kazoo's testing harness style) records a journal entry on the cluster *before*
the change, makes the change, checks that it took effect, and undoes it however the
``with`` block ends; the entry is closed only once the undo is verified. The undo functions
(``undoers``) are the same ones ``pytest --zkdrill-repair`` and the next run use on the
entries a killed run left behind, so they are idempotent and need nothing but the entry.

- ``cordoned(node)``: cordon (only if schedulable: a node someone else cordoned is theirs);
- ``drain(node)``: ``harness.kube.drain.drain`` with its cordon journaled first;
- ``extra_nodes_cordoned(keep=4)``: the tutorial's "cordon all but four nodes";
- ``template_patched(sts, json_patch)``: a JSON patch of the StatefulSet; undo puts the
  recorded template back (as ``rollout undo`` does: strategic merge with ``$patch: replace``);
- ``script_removed(pod, path)``: ``rm`` a file in a container; undone when the restarted
  container has it again (liveness restarts it; if nothing does, ``restart_command`` does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from harness.errors import ClusterError, DrillFailure, HarnessError
from harness.journal import Entry, Journal, Outcome, Undoer
from harness.kube.apply import FIELD_MANAGER
from harness.kube.client import Cluster
from harness.kube.drain import DrainOptions, DrainResult, cordon, drain, is_cordoned, uncordon
from harness.kube.objects import PATCH_TYPES, STATEFULSET, label_selector
from harness.model.disruption import ProbeTimes, container_spec
from harness.model.progress import Progress
from harness.settings import Timeouts
from harness.waits import Condition, EventSource, wait_for


@dataclass(frozen=True)
class TemplatePatch:
    statefulset: str
    previous: dict[str, Any]  # the template before the patch (what the undo restores)
    previous_revision: str  # status.updateRevision before the patch
    revision: str  # the new updateRevision the controller computed


@dataclass(frozen=True)
class ScriptRemoval:
    pod: str
    path: str
    uid: str
    container_id: str
    restarts_before: int
    removed_at: float  # time.monotonic() when rm returned


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
        events: Callable[[], EventSource] | None = None,
        log: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self.cluster = cluster
        self.journal = journal
        self.container = container
        self.restart_command = tuple(restart_command)
        self.timeouts = timeouts
        self.events = events  # e.g. the drill's PodWatcher.subscribe: waits wake on pod events
        self.log = log
        self.undoers = undoers(cluster, timeouts)
        self.patched: set[str] = set()  # StatefulSets whose template this drill changed

    # -- nodes ---------------------------------------------------------------------------------
    def cordon(self, node: str) -> bool:
        """``kubectl cordon``, journaled; False (and nothing recorded) if already cordoned."""
        done = cordon(self.cluster, node, before=self._record_cordon)
        self.log(f"kubectl cordon {node} -> node/{node} {'' if done else 'already '}cordoned")
        return done

    def uncordon(self, node: str) -> bool:
        """Undo *our* cordon of ``node`` now; a node we did not cordon is left alone."""
        mine = [e for e in self.journal.mine() if e.kind == "cordon" and e.undo["node"] == node]
        for entry in mine:
            self._undo(entry)
        self.log(f"kubectl uncordon {node} -> " + ("uncordoned" if mine else
                                                   "not ours, left as it is"))
        return bool(mine)

    @contextmanager
    def cordoned(self, node: str) -> Iterator[bool]:
        """Cordoned for the block; yields whether this cordon is ours (and will be undone)."""
        ours = self.cordon(node)
        try:
            yield ours
        finally:
            if ours:
                self.uncordon(node)

    def drain(self, node: str, *, timeout: float, options: DrainOptions | None = None
              ) -> DrainResult:
        """``kubectl drain --ignore-daemonsets --delete-emptydir-data NODE``, cordon journaled."""
        result = drain(self.cluster, node, timeout=timeout, options=options,
                       before_cordon=self._record_cordon)
        self.log(f"kubectl drain {node}:\n{result.describe()}")
        return result

    @contextmanager
    def extra_nodes_cordoned(
        self, keep: int = 4, prefer: Sequence[str] = ()
    ) -> Iterator[list[str]]:
        """Cordon every schedulable node but ``keep`` (``prefer``red ones kept first); yields
        the kept ones. Fewer than ``keep`` schedulable nodes is a ``DrillFailure``."""
        schedulable = sorted(n["metadata"]["name"] for n in self.cluster.nodes()
                             if not is_cordoned(n))
        if len(schedulable) < keep:
            raise DrillFailure(f"the drill needs {keep} schedulable nodes, the cluster has "
                               f"{len(schedulable)}: {', '.join(schedulable) or 'none'}")
        kept = [n for n in prefer if n in schedulable][:keep]
        kept += [n for n in schedulable if n not in kept][: keep - len(kept)]
        extra = [n for n in schedulable if n not in kept]
        ours = [n for n in extra if self.cordon(n)]
        try:
            yield kept
        finally:
            for node in reversed(ours):
                self.uncordon(node)

    def _record_cordon(self, node: str) -> None:
        self.journal.record("cordon", f"node/{node}", {"node": node})

    # -- the StatefulSet template ----------------------------------------------------------------
    @contextmanager
    def template_patched(self, name: str, json_patch: list[dict[str, Any]]
                         ) -> Iterator[TemplatePatch]:
        """``kubectl patch sts NAME --type=json -p PATCH``; the template is restored after."""
        sts = self._statefulset(name)
        previous = sts["spec"]["template"]
        old_revision = (sts.get("status") or {}).get("updateRevision", "")
        entry = self.journal.record("template", f"statefulset/{self.cluster.namespace}/{name}",
                                    {"statefulset": name, "template": previous})
        self.patched.add(name)
        try:
            patched = self.cluster.patch(STATEFULSET, name, json_patch, "json")
            self.log(f"kubectl patch sts {name} --type=json -p '{json_patch}' -> patched")
            if patched["spec"]["template"] == previous:
                raise DrillFailure(f"the patch {json_patch} did not change the template of {name}")
            seen = self._wait(self._new_revision(name, old_revision),
                              self.timeouts.step, "the controller to compute the new revision")
            yield TemplatePatch(name, previous, old_revision, seen.detail)
        finally:
            self._undo(entry)

    def _new_revision(self, name: str, old: str) -> Callable[[], Progress]:
        def check() -> Progress:
            sts = self._statefulset(name)
            status = sts.get("status") or {}
            observed = int(status.get("observedGeneration") or 0)
            generation = int(sts["metadata"].get("generation") or 0)
            revision = str(status.get("updateRevision") or "")
            if observed < generation or revision in ("", old):
                return Progress.waiting(f"observedGeneration {observed}/{generation}, "
                                        f"updateRevision {revision or '-'}")
            return Progress.ok(revision)
        return check

    def _statefulset(self, name: str) -> dict[str, Any]:
        sts = self.cluster.statefulset(name)
        if sts is None:
            raise DrillFailure(f"statefulset {self.cluster.namespace}/{name} does not exist")
        return sts

    # -- files in a container --------------------------------------------------------------------
    @contextmanager
    def script_removed(self, pod: str, path: str) -> Iterator[ScriptRemoval]:
        """``kubectl exec POD -- rm PATH``; over when the restarted container has it again."""
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
        try:
            removed = self._exec(pod, ["rm", path])
            removed_at = time.monotonic()
            if removed.exit_code != 0:
                raise DrillFailure(f"could not remove {path}: {removed.describe()}")
            if self._exec(pod, ["test", "-e", path]).exit_code == 0:
                raise DrillFailure(f"{path} is still there in {pod} after rm")
            yield ScriptRemoval(pod, path, current["metadata"]["uid"],
                                status.get("containerID", ""),
                                int(status.get("restartCount") or 0), removed_at)
        finally:
            self._undo(entry)

    def _exec(self, pod: str, command: list[str]) -> Any:
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

    def _undo(self, entry: Entry) -> None:
        outcome = self.journal.undo(entry, self.undoers)
        self.log(outcome.describe())
        if not outcome.ok:
            raise DrillFailure(f"could not undo {entry.kind} {entry.target}: {outcome.detail} "
                               "(left in the journal for the next run or --zkdrill-repair)")

    def _wait(self, check: Callable[[], Progress], timeout: float, what: str) -> Progress:
        events = self.events() if self.events else None
        return wait_for(Condition(check, what, events), timeout=timeout, recheck=1.0)


# -- undo functions (also used by the repair of a killed run's leftovers) ------------------------


def undoers(cluster: Cluster, timeouts: Timeouts) -> dict[str, Undoer]:
    return {
        "cordon": partial(undo_cordon, cluster),
        "template": partial(undo_template, cluster),
        "script": partial(undo_script, cluster, timeouts),
    }


def undo_cordon(cluster: Cluster, entry: Entry) -> str:
    node = entry.undo["node"]
    return f"node/{node} uncordoned" if uncordon(cluster, node) else \
        f"node/{node} already schedulable (or gone)"


def undo_template(cluster: Cluster, entry: Entry) -> str:
    name, previous = entry.undo["statefulset"], entry.undo["template"]
    sts = cluster.statefulset(name)
    if sts is None:
        return f"statefulset {name} is gone; nothing to restore"
    if sts["spec"]["template"] == previous:
        return f"statefulset {name}: template already as recorded"
    restored = cluster.patch(STATEFULSET, name, {"spec": {"template": {**previous,
                                                                      "$patch": "replace"}}},
                             "strategic")
    if restored["spec"]["template"] != previous:
        raise ClusterError(f"statefulset {name}: the template still differs after the restore")
    return f"statefulset {name}: template restored as recorded before the patch"


def undo_script(cluster: Cluster, timeouts: Timeouts, entry: Entry) -> str:
    u = entry.undo
    pod, path, container = u["pod"], u["path"], u["container"]
    current = cluster.pod(pod)
    if current is None or current["metadata"]["uid"] != u["uid"]:
        return f"{pod} was replaced by a new pod, which has its own {path}"
    labels = u.get("labels") or {}
    watcher = cluster.watch_pods(label_selector(labels)) if labels else None
    try:
        events = watcher.subscribe() if watcher else None
        restarted = _restarted(cluster, pod, container, u["container_id"])
        how = "the container had been restarted"
        if not restarted().done:
            budget = float(u.get("budget") or 0)
            try:
                if budget <= 0:
                    raise HarnessError("no liveness probe")
                wait_for(Condition(restarted, f"{pod} to restart", events),
                         timeout=budget + 30.0, recheck=1.0)
                how = "the liveness probe restarted the container"
            except HarnessError:
                cluster.exec(pod, list(u["restart_command"]), container=container, timeout=60)
                wait_for(Condition(restarted, f"{pod} to restart", events),
                         timeout=timeouts.pod_ready, recheck=1.0)
                how = f"nothing restarted the container, so `{' '.join(u['restart_command'])}` did"

        def back() -> Progress:
            result = cluster.exec(pod, ["test", "-e", path], container=container, timeout=30)
            return Progress(result.exit_code == 0, result.describe())

        wait_for(Condition(back, f"{path} back in {pod}", events), timeout=timeouts.pod_ready,
                 recheck=1.0, tolerate=(ClusterError,))
    finally:
        if watcher is not None:
            watcher.stop()
    return f"{how}; {path} is back in {pod}"


def _restarted(cluster: Cluster, pod: str, container: str, old_id: str) -> Callable[[], Progress]:
    def check() -> Progress:
        current = cluster.pod(pod)
        if current is None:
            return Progress.ok(f"{pod} is gone")
        status = _container_status(current, container)
        new_id = status.get("containerID", "")
        running = "running" in (status.get("state") or {})
        return Progress(bool(new_id) and new_id != old_id and running,
                        f"container {new_id[-12:] or '-'} (was {old_id[-12:] or '-'})")
    return check


def _container_status(pod: Mapping[str, Any], container: str) -> dict[str, Any]:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return dict(status)
    return {}


# -- does the live template still equal the manifest's? -----------------------------------------


def manifest_drift(cluster: Cluster, document: Mapping[str, Any]) -> str | None:
    """None when applying ``document`` (a StatefulSet) would leave the live pod template as
    it is (a server-side dry-run apply, so defaults and quantities compare as the API sees
    them); otherwise a one-line description of the difference."""
    name = document["metadata"]["name"]
    live = cluster.statefulset(name)
    if live is None:
        return f"statefulset {name} does not exist"
    body = {**document, "metadata": {**document["metadata"], "namespace": cluster.namespace}}
    dry = cluster.transport.request(
        "PATCH", STATEFULSET.path(cluster.namespace, name), body=body,
        content_type=PATCH_TYPES["apply"],
        query=[("fieldManager", FIELD_MANAGER), ("force", True), ("dryRun", "All")],
    )
    want, have = dry["spec"]["template"], live["spec"]["template"]
    if want == have:
        return None
    return f"statefulset {name}: the pod template differs from the manifest's at " + \
        ", ".join(_differences(want, have)[:5])


def _differences(a: Any, b: Any, path: str = "template") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in _differences(a.get(k), b.get(k),
                                                                         f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path} ({b!r}, manifest {a!r})"]
