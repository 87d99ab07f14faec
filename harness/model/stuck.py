"""Is a pod stuck for a reason that waiting will not fix? (pure, no I/O)

A wait for pods to get Ready would otherwise sit out its whole timeout (900 s for a rollout)
while ``kubectl get events`` already says why nothing will happen. ``StartWatch`` is kept by
one wait and fed every pod it looks at, with the wait's clock; it answers a ``Blocker`` when:

- a container waits with a reason that only a change of the manifest or the node fixes
  (``ErrImagePull``/``ImagePullBackOff``, ``InvalidImageName``, ``ErrImageNeverPull``,
  ``CreateContainerConfigError``, ``CreateContainerError``, ``RunContainerError``) and has
  done so for ``grace`` seconds of this wait (a registry hiccup clears on the next pull);
- a container is in ``CrashLoopBackOff`` after crashing ``crashes`` times during this wait
  (restarts from before the wait do not count: the process and liveness drills restart
  containers on purpose);
- the pod is ``Unschedulable`` for ``grace`` seconds and the scheduler's message names no
  cause that goes away on its own: a cordoned node ("node(s) were unschedulable"), a taint
  (a NotReady or unreachable node) or a claim still being bound. "0/4 nodes are available:
  4 Insufficient cpu" is a blocker; "1 node(s) were unschedulable, 3 node(s) didn't match
  pod anti-affinity rules" is the drain drill's expected state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.model._fields import get, get_int, get_list

#: Container waiting reasons that retrying does not fix, in the kubelet's words.
HOPELESS_WAITING = frozenset({
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
})
_IMAGE_PULL = frozenset({"ErrImagePull", "ImagePullBackOff"})
#: Scheduler message fragments of causes that pass: cordon, node taints, volume binding.
TRANSIENT_SCHEDULING = ("were unschedulable", "taint", "unbound", "volume")
DEFAULT_GRACE = 20.0
DEFAULT_CRASHES = 3


@dataclass(frozen=True)
class Blocker:
    """Why ``pod`` will not start: the waiting (or scheduling) reason and its message."""

    pod: str
    reason: str
    message: str

    def describe(self) -> str:
        text = f"{self.pod} cannot start: {self.reason}"
        return f"{text}: {self.message}" if self.message else text


@dataclass
class StartWatch:
    """What one wait has seen of each pod: since when a reason holds, restarts at first sight."""

    grace: float = DEFAULT_GRACE
    crashes: int = DEFAULT_CRASHES
    _since: dict[tuple[str, str], float] = field(default_factory=dict)
    _restarts_seen: dict[tuple[str, str], int] = field(default_factory=dict)

    def blocker(self, pod: Mapping[str, Any] | None, now: float) -> Blocker | None:
        """The reason ``pod`` cannot start, once it has held long enough; else None."""
        if pod is None or get(pod, "metadata", "deletionTimestamp"):
            return None
        name = get(pod, "metadata", "name") or "?"
        uid = get(pod, "metadata", "uid") or name
        held: set[tuple[str, str]] = set()
        found = self._container_blocker(name, uid, pod, now, held) \
            or self._scheduling_blocker(name, uid, pod, now, held)
        for key in [k for k in self._since if k[0] == uid and k not in held]:
            del self._since[key]
        return found

    def _held_for(self, key: tuple[str, str], now: float, held: set[tuple[str, str]]) -> float:
        held.add(key)
        return now - self._since.setdefault(key, now)

    def _container_blocker(self, name: str, uid: str, pod: Mapping[str, Any], now: float,
                           held: set[tuple[str, str]]) -> Blocker | None:
        statuses = get_list(pod, "status", "initContainerStatuses") \
            + get_list(pod, "status", "containerStatuses")
        for status in statuses:
            container = get(status, "name") or "?"
            restarts = get_int(status, "restartCount")
            first = self._restarts_seen.setdefault((uid, container), restarts)
            reason = get(status, "state", "waiting", "reason") or ""
            message = get(status, "state", "waiting", "message") or ""
            if reason in HOPELESS_WAITING:
                kind = "image" if reason in _IMAGE_PULL else reason
                if self._held_for((uid, f"{container}/{kind}"), now, held) >= self.grace:
                    return Blocker(name, reason, message)
            elif reason == "CrashLoopBackOff" and restarts - first >= self.crashes:
                last = get(status, "lastState", "terminated") or {}
                exit_code = get(last, "exitCode")
                crashed = f"; last exit code {exit_code}" if exit_code is not None else ""
                return Blocker(name, reason,
                               f"{restarts - first} crashes during this wait{crashed}"
                               + (f"; {message}" if message else ""))
        return None

    def _scheduling_blocker(self, name: str, uid: str, pod: Mapping[str, Any], now: float,
                            held: set[tuple[str, str]]) -> Blocker | None:
        if get(pod, "spec", "nodeName"):
            return None
        for condition in get_list(pod, "status", "conditions"):
            if get(condition, "type") != "PodScheduled" or get(condition, "status") != "False":
                continue
            if get(condition, "reason") != "Unschedulable":
                return None
            message = str(get(condition, "message") or "")
            if any(part in message for part in TRANSIENT_SCHEDULING):
                return None
            if self._held_for((uid, "unschedulable"), now, held) >= self.grace:
                return Blocker(name, "FailedScheduling", message)
        return None
