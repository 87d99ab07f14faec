"""Undo functions for journal entries, and the check that a template equals the manifest's.

The same functions undo a fault at the end of its drill and the entries a killed run left
behind (``pytest --zkdrill-repair`` or the next run), so each needs nothing but the entry
and is idempotent: undoing what is already undone says so and succeeds.

Each acts only where the live object still shows what the entry's run made; otherwise it
leaves the object alone and says so (the entry is closed: there is nothing of ours to undo).
That covers an entry whose change was never made (the run was killed between the journal
write and the API call: ``entry.applied`` is None) and a change someone else made since.

- ``cordon``: uncordon the node only if it carries ``zkdrill.io/cordoned-by: <the entry's
  run>`` (removed in the same patch, with the read resourceVersion as a precondition); a
  node cordoned without it, or by another run, is someone else's;
- ``template``: put the recorded pod template back (strategic merge with ``$patch:
  replace``, as ``rollout undo`` does) only if the live template is still the *patched* form
  the entry recorded (the API's answer, or the dry run made before the patch when the run
  died before marking it applied); a template changed since is left alone;
- ``hang``: ``kill -CONT`` the process a drill stopped (nothing to do once its container
  was restarted), then check it is no longer stopped;
- ``script``: if the container the file was removed from still runs and the file is there,
  nothing is done (the ``rm`` never happened, or something put it back). Otherwise wait for
  the container to be restarted (by its liveness probe, or by the recorded restart command
  if nothing does), then check the file is back in the new container.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from harness.commands import run_command
from harness.conditions import container_replaced
from harness.errors import ClusterError, HarnessError
from harness.journal import CORDONED_BY, Entry, Undoer
from harness.kube.apply import FIELD_MANAGER
from harness.kube.client import Cluster
from harness.kube.drain import is_cordoned
from harness.kube.objects import NODE, PATCH_TYPES, STATEFULSET, label_selector
from harness.kube.transport import ApiError
from harness.model.progress import Progress
from harness.settings import Timeouts
from harness.waits import Condition, wait_for

ATTEMPTS = 5  # re-reads after a 409 (a node's status changes under us)
RESTORED = "restored as recorded before the patch"  # (the pods then roll)


def undoers(cluster: Cluster, timeouts: Timeouts) -> dict[str, Undoer]:
    return {
        "cordon": partial(undo_cordon, cluster),
        "template": partial(undo_template, cluster),
        "script": partial(undo_script, cluster, timeouts),
        "node": partial(undo_node, cluster, timeouts),
        "statefulset": partial(undo_statefulset_deletion, cluster),
        "rollout": partial(undo_rollout, cluster),
        "hang": partial(undo_hang, cluster),
    }


def undo_statefulset_deletion(cluster: Cluster, entry: Entry) -> str:
    """Create the deleted StatefulSet again as recorded (its claims kept the data); a set of
    that name that exists again (re-applied by the drill, or by someone) is left as it is."""
    document = entry.undo["document"]
    name = document["metadata"]["name"]
    if cluster.statefulset(name) is not None:
        return f"statefulset {name} exists: nothing to re-create"
    cluster.create(STATEFULSET, {**document, "metadata": {
        k: v for k, v in document["metadata"].items() if k != "namespace"}})
    return f"statefulset {name} created again as it was before the deletion"


def process_state(cluster: Cluster, pod: str, container: str, pid: int) -> str | None:
    """The state letter of ``/proc/PID/stat`` in the container (``T``: stopped), or None
    when there is no such process."""
    result = cluster.exec(pod, ["cat", f"/proc/{pid}/stat"], container=container, timeout=30)
    if result.exit_code != 0:
        return None
    _, _, rest = result.stdout.rpartition(")")
    fields = rest.split()
    return fields[0] if fields else None


def undo_hang(cluster: Cluster, entry: Entry) -> str:
    """SIGCONT the process the drill stopped, unless its container has been replaced since
    (then the stopped process is gone with it); verified: the process is not stopped."""
    u = entry.undo
    pod, container, pid = u["pod"], u["container"], int(u["pid"])
    current = cluster.pod(pod)
    if current is None or current["metadata"]["uid"] != u["uid"]:
        return f"{pod} was replaced by a new pod: the stopped process is gone"
    statuses = (current.get("status") or {}).get("containerStatuses") or []
    status: Mapping[str, Any] = next(
        (s for s in statuses if s.get("name") == container), {})
    if status.get("containerID") != u["container_id"]:
        return f"{pod}'s container was restarted: the stopped process {pid} is gone with it"
    cluster.exec(pod, ["sh", "-c", f"kill -CONT {pid}"], container=container, timeout=30)
    state = process_state(cluster, pod, container, pid)
    if state == "T":
        raise ClusterError(f"{pod}: process {pid} is still stopped after kill -CONT")
    return (f"kill -CONT {pid} in {pod}: it runs again" if state is not None
            else f"{pod}: process {pid} is gone")


def undo_node(cluster: Cluster, timeouts: Timeouts, entry: Entry) -> str:
    """Start the stopped node again (its start command) and wait until it is Ready."""
    node, command = entry.undo["node"], entry.undo["start_command"]
    said = run_command(command.replace("{node}", node))

    def ready() -> Progress:
        found = cluster.node(node)
        if found is None:
            return Progress.ok(f"node/{node} is gone")
        status = next((c.get("status") for c in (found.get("status") or {}).get("conditions")
                       or [] if c.get("type") == "Ready"), "?")
        return Progress(status == "True", f"node/{node} Ready={status}")

    # no watch on nodes here: a re-check every second, bounded by the pod-ready timeout
    wait_for(Condition(ready, f"node/{node} Ready again"), timeout=timeouts.pod_ready,
             recheck=1.0, tolerate=(ClusterError,))
    return f"node/{node} started ({said}) and Ready"


def undo_rollout(cluster: Cluster, entry: Entry) -> str:
    """Put the recorded pod template and update strategy back (canary partition undone),
    but only while the set still shows what this run last made of them."""
    name = entry.undo["statefulset"]
    before = {"template": entry.undo["template"], "updateStrategy": entry.undo["update_strategy"]}
    ours = entry.applied or {}
    sts = cluster.statefulset(name)
    if sts is None:
        return f"statefulset {name} is gone; nothing to restore"
    live = {key: sts["spec"].get(key) for key in before}
    if live == before:
        return f"statefulset {name}: template and update strategy already as recorded"
    if not ours or live != {"template": ours.get("template"),
                            "updateStrategy": ours.get("update_strategy")}:
        what = ("the run stopped before its patch" if not ours
                else "they were changed since this run's last change")
        return (f"statefulset {name}: the template or update strategy is not what run "
                f"{entry.owner.run_id} made of them ({what}): left as it is")
    version = sts["metadata"]["resourceVersion"]
    cluster.patch(STATEFULSET, name, [
        {"op": "test", "path": "/metadata/resourceVersion", "value": version},
        {"op": "replace", "path": "/spec/template", "value": before["template"]},
        {"op": "replace", "path": "/spec/updateStrategy", "value": before["updateStrategy"]},
    ], "json")
    restored = cluster.statefulset(name) or {}
    if {key: (restored.get("spec") or {}).get(key) for key in before} != before:
        raise ClusterError(f"statefulset {name}: template or update strategy still differ "
                           "after the restore")
    return f"statefulset {name}: template and update strategy {RESTORED}"


def undo_cordon(cluster: Cluster, entry: Entry) -> str:
    node, run = entry.undo["node"], entry.owner.run_id
    never = "" if entry.applied is not None else " (the run stopped before its cordon patch)"
    for _ in range(ATTEMPTS):
        current = cluster.node(node)
        if current is None:
            return f"node/{node} is gone"
        if not is_cordoned(current):
            return f"node/{node} already schedulable{never}"
        mark = ((current.get("metadata") or {}).get("annotations") or {}).get(CORDONED_BY)
        if mark != run:
            who = f"by run {mark}" if mark else f"without {CORDONED_BY}"
            return f"node/{node} is cordoned {who}, not by run {run}: left cordoned{never}"
        patch = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"],
                              "annotations": {CORDONED_BY: None}},
                 "spec": {"unschedulable": None}}
        try:
            result = cluster.patch(NODE, node, patch)
        except ApiError as exc:
            if exc.conflict:
                continue  # changed since we read it: look again
            raise
        if is_cordoned(result):
            raise ClusterError(f"node {node} is still cordoned after the uncordon patch")
        return f"node/{node} uncordoned"
    raise ClusterError(f"node {node} kept changing under the uncordon ({ATTEMPTS} attempts)")


def undo_template(cluster: Cluster, entry: Entry) -> str:
    name, previous = entry.undo["statefulset"], entry.undo["template"]
    ours = (entry.applied or {}).get("template") or entry.undo.get("patched")
    for _ in range(ATTEMPTS):
        sts = cluster.statefulset(name)
        if sts is None:
            return f"statefulset {name} is gone; nothing to restore"
        live = sts["spec"]["template"]
        if live == previous:
            return f"statefulset {name}: template already as recorded"
        if ours is None or live != ours:
            what = ("the run stopped before its patch" if entry.applied is None
                    else "it was changed since this run's patch")
            return (f"statefulset {name}: the template is not the one run "
                    f"{entry.owner.run_id} patched it to ({what}): left as it is")
        body = {"metadata": {"resourceVersion": sts["metadata"]["resourceVersion"]},
                "spec": {"template": {**previous, "$patch": "replace"}}}
        try:
            restored = cluster.patch(STATEFULSET, name, body, "strategic")
        except ApiError as exc:
            if exc.conflict:
                continue
            raise
        if restored["spec"]["template"] != previous:
            raise ClusterError(f"statefulset {name}: the template still differs after the "
                               "restore")
        return f"statefulset {name}: template {RESTORED}"
    raise ClusterError(f"statefulset {name} kept changing under the restore ({ATTEMPTS} "
                       "attempts)")


def undo_script(cluster: Cluster, timeouts: Timeouts, entry: Entry) -> str:
    u = entry.undo
    pod, path, container = u["pod"], u["path"], u["container"]
    current = cluster.pod(pod)
    if current is None or current["metadata"]["uid"] != u["uid"]:
        return f"{pod} was replaced by a new pod, which has its own {path}"
    labels = u.get("labels") or {}
    watcher = cluster.watch_pods(label_selector(labels)) if labels else None
    try:
        restarted = container_replaced(watcher, cluster, pod, container, u["container_id"])
        how = "the container had been restarted"
        if not restarted().done:
            # the same container still runs: restart it only if the file is really missing
            there = cluster.exec(pod, ["test", "-e", path], container=container, timeout=30)
            if there.exit_code == 0:
                never = " (the run stopped before its rm)" if entry.applied is None else ""
                return f"{path} is there in {pod}: nothing restarted{never}"
            if there.exit_code != 1:
                raise ClusterError(f"cannot tell whether {path} is in {pod}: "
                                   f"{there.describe()}")
            budget = float(u.get("budget") or 0)
            try:
                if budget <= 0:
                    raise HarnessError("no liveness probe")
                wait_for(restarted, timeout=budget + 30.0, recheck=1.0)
                how = "the liveness probe restarted the container"
            except HarnessError:
                cluster.exec(pod, list(u["restart_command"]), container=container, timeout=60)
                wait_for(restarted, timeout=timeouts.pod_ready, recheck=1.0)
                how = f"nothing restarted the container, so `{' '.join(u['restart_command'])}` did"

        def back() -> Progress:
            result = cluster.exec(pod, ["test", "-e", path], container=container, timeout=30)
            return Progress(result.exit_code == 0, result.describe())

        events = watcher.subscribe() if watcher else None
        wait_for(Condition(back, f"{path} back in {pod}", events), timeout=timeouts.pod_ready,
                 recheck=1.0, tolerate=(ClusterError,))
    finally:
        if watcher is not None:
            watcher.stop()
    return f"{how}; {path} is back in {pod}"


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
    # a null in an applied manifest (``annotations:`` with nothing under it, as Helm renders
    # empty blocks) means "not set": compare without them
    want, have = _pruned(dry["spec"]["template"]), _pruned(live["spec"]["template"])
    if want == have:
        return None
    return f"statefulset {name}: the pod template differs from the manifest's at " + \
        ", ".join(_differences(want, have)[:5])


def _pruned(value: Any) -> Any:
    """``value`` without null map entries, recursively."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _differences(a: Any, b: Any, path: str = "template") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in _differences(a.get(k), b.get(k),
                                                                         f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path} ({b!r}, manifest {a!r})"]
