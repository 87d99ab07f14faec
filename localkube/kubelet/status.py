"""Pod status as the kubelet reports it (pkg/kubelet/status/generate.go, kubelet_pods.go).

Pure: the pod worker keeps one `ContainerRecord` per container and asks this module for
the API view. The rules reproduced here are the ones `kubectl get pods` and the drills
observe:

- phase (`getPhase`): Pending while any container waits without ever having run;
  Running when one runs, or when all stopped but restartPolicy Always (so CrashLoopBackOff
  pods are Running) or OnFailure with a failure; Succeeded/Failed only when terminal;
- conditions in the kubelet's order PodReadyToStartContainers, Initialized, Ready,
  ContainersReady, PodScheduled, each `lastTransitionTime` kept unless `status` flips;
- container statuses with exactly one of waiting/running/terminated and the previous
  instance as `lastState.terminated`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

RUNTIME_SCHEME = "localkube://"
CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                   "PodScheduled")


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Instance:
    """One run of a container (one runtime container id)."""

    id: str
    started_at: float
    finished_at: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    message: str | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def terminated(self) -> dict:
        assert self.finished_at is not None and self.exit_code is not None
        out: dict = {
            "containerID": RUNTIME_SCHEME + self.id,
            "exitCode": self.exit_code,
            "finishedAt": rfc3339(self.finished_at),
            "reason": self.reason or ("Completed" if self.exit_code == 0 else "Error"),
            "startedAt": rfc3339(self.started_at),
        }
        if self.message:
            out["message"] = self.message
        return out


def resumed_instance(status: dict, now: float) -> Instance | None:
    """The instance a `containerStatuses[]` entry names, as found after a reboot: dead,
    exit code 255, reason Unknown. None when it names no container that ran."""
    container_id = str(status.get("containerID") or "")
    if not container_id.startswith(RUNTIME_SCHEME):
        return None
    state = status.get("state") or {}
    ran = state.get("running") or state.get("terminated") or {}
    started = _parse(ran.get("startedAt")) or now
    if "terminated" in state and state["terminated"].get("exitCode") is not None:
        ended = state["terminated"]
        return Instance(container_id[len(RUNTIME_SCHEME):], started,
                        _parse(ended.get("finishedAt")) or now, int(ended["exitCode"]),
                        ended.get("reason"), ended.get("message"))
    return Instance(container_id[len(RUNTIME_SCHEME):], started, now, 255, "Unknown")


def _parse(text: object) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


@dataclass
class ContainerRecord:
    """The kubelet's memory of one container of one pod (across restarts)."""

    name: str
    image: str
    image_id: str = ""
    current: Instance | None = None
    previous: Instance | None = None
    restart_count: int = 0
    #: (reason, message) shown instead of the current state, e.g. CrashLoopBackOff
    waiting: tuple[str, str | None] | None = ("ContainerCreating", None)
    ready: bool = False
    started: bool = False
    volume_mounts: list[dict] = field(default_factory=list)
    #: the pod was torn down before this container ever ran
    never_ran: bool = False

    def finalize(self) -> None:
        """The pod is terminated: no more waiting, unknown containers count as failed."""
        self.ready = self.started = False
        if self.exited:
            self.waiting = None
        elif self.current is None:
            self.never_ran = True

    @property
    def running(self) -> bool:
        return self.current is not None and self.current.running

    @property
    def exited(self) -> bool:
        return self.current is not None and not self.current.running

    def api(self) -> dict:
        """The `containerStatuses[]` entry."""
        out: dict = {"name": self.name, "image": self.image, "imageID": self.image_id}
        last = self.previous
        state: dict
        if self.never_ran:
            state = {"terminated": {
                "exitCode": 137, "finishedAt": None, "reason": "ContainerStatusUnknown",
                "message": "The container could not be located when the pod was terminated",
                "startedAt": None}}
        elif self.running:
            assert self.current is not None
            state = {"running": {"startedAt": rfc3339(self.current.started_at)}}
        elif self.waiting is not None:
            reason, message = self.waiting
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
            if self.exited:
                last = self.current  # crash loop: the instance that died is the last state
        elif self.current is not None:
            state = {"terminated": self.current.terminated()}
        else:
            state = {"waiting": {"reason": "ContainerCreating"}}
        shown = self.current or last
        if shown is not None:
            out["containerID"] = RUNTIME_SCHEME + shown.id
        out["lastState"] = (
            {"terminated": last.terminated()}
            if last is not None and last.finished_at is not None else {}
        )
        out["ready"] = self.ready and self.running
        out["restartCount"] = self.restart_count
        out["started"] = self.started and self.running
        out["state"] = state
        if self.current is not None and self.volume_mounts:
            out["volumeMounts"] = self.volume_mounts
        return out


def volume_mounts_status(container_spec: dict) -> list[dict]:
    """`containerStatuses[].volumeMounts` as 1.31+ kubelets report them."""
    out = []
    for m in container_spec.get("volumeMounts") or []:
        entry = {"mountPath": m.get("mountPath", ""), "name": m.get("name", "")}
        if m.get("readOnly"):
            entry["readOnly"] = True
            entry["recursiveReadOnly"] = "Disabled"
        out.append(entry)
    return out


def pod_phase(restart_policy: str, records: list[ContainerRecord], terminal: bool) -> str:
    """kubelet's getPhase for the regular containers."""
    running = waiting = stopped = succeeded = 0
    for r in records:
        if r.running:
            running += 1
        elif r.exited and r.waiting is None:
            stopped += 1
            succeeded += r.current is not None and r.current.exit_code == 0
        elif r.exited or r.previous is not None or r.never_ran:
            stopped += 1  # waiting with a last termination counts as stopped
        else:
            waiting += 1
    if terminal:
        return "Succeeded" if stopped == succeeded and running == 0 and waiting == 0 else "Failed"
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "OnFailure":
            return "Running"
        return "Failed"
    return "Pending"


def _cond(kind: str, ok: bool, reason: str | None = None, message: str | None = None) -> dict:
    out: dict = {"type": kind, "status": "True" if ok else "False"}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def _names(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"  # Go's %s of a []string


def pod_conditions(spec: dict, records: list[ContainerRecord], phase: str,
                   sandbox_ready: bool, existing: list[dict]) -> list[dict]:
    """The kubelet-owned conditions, PodScheduled kept from the scheduler's binding."""
    out = [_cond("PodReadyToStartContainers", sandbox_ready), _cond("Initialized", True)]
    if phase in ("Succeeded", "Failed"):
        reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        containers_ready = _cond("ContainersReady", False, reason)
    else:
        unready = [r.name for r in records if not (r.ready and r.running)]
        containers_ready = (
            _cond("ContainersReady", False, "ContainersNotReady",
                  f"containers with unready status: {_names(unready)}")
            if unready else _cond("ContainersReady", True)
        )
    ready = dict(containers_ready, type="Ready")
    if containers_ready["status"] == "True":
        ready = _readiness_gates(spec, existing) or ready
    out += [ready, containers_ready]
    scheduled = next((c for c in existing if c.get("type") == "PodScheduled"), None)
    out.append(dict(scheduled) if scheduled else _cond("PodScheduled", True))
    return out


def _readiness_gates(spec: dict, existing: list[dict]) -> dict | None:
    messages = []
    for gate in spec.get("readinessGates") or []:
        kind = gate.get("conditionType", "")
        cond = next((c for c in existing if c.get("type") == kind), None)
        if cond is None:
            messages.append(f'corresponding condition of pod readiness gate "{kind}" does not '
                            "exist.")
        elif cond.get("status") != "True":
            messages.append(f'the status of pod readiness gate "{kind}" is not "True", but '
                            f"{cond.get('status')}")
    if messages:
        return _cond("Ready", False, "ReadinessGatesNotReady", ", ".join(messages))
    return None


def merge_conditions(new: list[dict], existing: list[dict], now: float) -> list[dict]:
    """Stamp `lastProbeTime`/`lastTransitionTime`, keeping the old time unless status flips.

    Conditions others own (readiness gates, DisruptionTarget) are kept after ours.
    """
    old = {c.get("type"): c for c in existing}
    out = []
    for cond in new:
        prev = old.get(cond["type"])
        if cond["type"] == "PodScheduled" and prev is not None:
            out.append(prev)
            continue
        stamped = {"lastProbeTime": None, **cond}
        if prev is not None and prev.get("status") == cond["status"] and \
                prev.get("lastTransitionTime"):
            stamped["lastTransitionTime"] = prev["lastTransitionTime"]
        else:
            stamped["lastTransitionTime"] = rfc3339(now)
        out.append(stamped)
    ours = {c["type"] for c in new}
    out += [c for c in existing if c.get("type") not in ours]
    return out
