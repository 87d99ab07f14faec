"""Undo functions for journal entries, and the check that a template equals the manifest's.

The same functions undo a fault at the end of its drill and the entries a killed run left
behind (``pytest --zkdrill-repair`` or the next run), so each needs nothing but the entry
and is idempotent: undoing what is already undone says so and succeeds.

- ``cordon``: uncordon the node (if it is still cordoned);
- ``template``: put the recorded pod template back (strategic merge with ``$patch:
  replace``, as ``rollout undo`` does);
- ``hang``: ``kill -CONT`` the process a drill stopped (nothing to do once its container
  was restarted), then check it is no longer stopped;
- ``script``: wait for the container the file was removed from to be restarted (by its
  liveness probe, or by the recorded restart command if nothing does), then check the file
  is back in the new container.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from harness.commands import run_command
from harness.conditions import container_replaced
from harness.errors import ClusterError, HarnessError
from harness.journal import Entry, Undoer
from harness.kube.apply import FIELD_MANAGER
from harness.kube.client import Cluster
from harness.kube.drain import uncordon
from harness.kube.objects import PATCH_TYPES, STATEFULSET, label_selector
from harness.model.progress import Progress
from harness.settings import Timeouts
from harness.waits import Condition, wait_for


def undoers(cluster: Cluster, timeouts: Timeouts) -> dict[str, Undoer]:
    return {
        "cordon": partial(undo_cordon, cluster),
        "template": partial(undo_template, cluster),
        "script": partial(undo_script, cluster, timeouts),
        "node": partial(undo_node, cluster, timeouts),
        "rollout": partial(undo_rollout, cluster),
        "hang": partial(undo_hang, cluster),
    }


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
    """Put the recorded pod template and update strategy back (canary partition undone)."""
    name = entry.undo["statefulset"]
    template, strategy = entry.undo["template"], entry.undo["update_strategy"]
    sts = cluster.statefulset(name)
    if sts is None:
        return f"statefulset {name} is gone; nothing to restore"
    done = []
    if sts["spec"]["template"] != template:
        cluster.patch(STATEFULSET, name, {"spec": {"template": {**template,
                                                                "$patch": "replace"}}},
                      "strategic")
        done.append("template")
    if sts["spec"].get("updateStrategy") != strategy:
        cluster.patch(STATEFULSET, name, [{"op": "replace", "path": "/spec/updateStrategy",
                                           "value": strategy}], "json")
        done.append("update strategy")
    restored = cluster.statefulset(name) or {}
    spec = restored.get("spec") or {}
    if spec.get("template") != template or spec.get("updateStrategy") != strategy:
        raise ClusterError(f"statefulset {name}: template or update strategy still differ "
                           "after the restore")
    return f"statefulset {name}: " + (" and ".join(done) + " restored" if done
                                      else "template and update strategy already as recorded")


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
        restarted = container_replaced(watcher, cluster, pod, container, u["container_id"])
        how = "the container had been restarted"
        if not restarted().done:
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
