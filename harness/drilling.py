"""``Drill``: everything one drill works with, built fresh for each drill by its fixture.

The session's ``Ensemble`` is the ensemble's identity and whole-ensemble operations; a
``Drill`` adds what belongs to one drill: its pod watcher (the timeline, and the wake-ups of
its waits), its step recorder, ZooKeeper access recorded into its steps, its faults (undone
when it ends) and the timeouts. Drills use it through ``harness.drill``.

Steps check what the drill did not ask for: ``with drill.step(title, disturbs=[pod])``
fails the step when a pod it did not name changed (uid, node, restarts, readiness) while
it ran. The steady state every drill starts and ends with (N/N Ready, rolled out, one
leader, every sentinel on every server) is checked here too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from harness.conditions import (
    ObjectReader,
    ensemble_serving,
    pods_ready,
    running_ready,
    statefulset_rolled_out,
)
from harness.ensemble import Ensemble, Target
from harness.errors import ConfigError, DrillFailure, WaitTimeout
from harness.faults import Faults
from harness.kube.exec import ExecResult
from harness.kube.watch import PodWatcher
from harness.kube.workloads import budgets_selecting, revisions, rollout_undo, services_selecting
from harness.model.availability import leader_loss_budget
from harness.model.bystanders import bystander_changes
from harness.model.disruption import ProbeTimes, endpoint_state
from harness.model.objects import BudgetView, NodeView, StatefulSetView, container_of
from harness.model.progress import Progress
from harness.servers import ZooKeeper
from harness.settings import Settings, Timeouts
from harness.steps import DrillRecorder, StepRecord, now
from harness.timeline import PodEvent
from harness.verify import Verifier
from harness.waits import Condition, wait_for
from harness.zk.profile import ImageProfile
from harness.zk.roles import RoleSampler
from harness.zk.workload import Workload


class Drill:
    """One drill's view of the ensemble; ``close()`` stops its watcher."""

    def __init__(
        self,
        ensemble: Ensemble,
        recorder: DrillRecorder,
        *,
        faults_factory: Callable[[Drill], Faults] | None = None,
    ) -> None:
        self.ensemble = ensemble
        self.recorder = recorder
        self._cluster = ensemble.cluster
        self.pods: PodWatcher = self._cluster.watch_pods(ensemble.target.selector)
        recorder.pods = self.pods
        self.zk = ZooKeeper(ensemble.servers, recorder, ensemble.sentinels, self.exec,
                            ensemble.profile.zkcli, running=self._running)
        self._faults_factory = faults_factory
        self._faults: Faults | None = None
        self.verifier: Verifier | None = None
        self.roles: RoleSampler | None = None
        self._clock_origin = (time.monotonic(), now())  # reset when the workload starts

    def close(self) -> None:
        if self.verifier is not None and not self.verifier.workload.ledger.closed:
            self.verifier.workload.stop()
        self._keep_lanes()
        self.recorder.record.events = self.pods.events()
        self.pods.stop()

    # -- the workload ----------------------------------------------------------------------------
    def start_workload(self) -> Workload:
        """Clients writing through every server and the client service, checked per step."""
        servers = self.ensemble.servers
        workload = Workload(servers.endpoints(), self.run_id).start()
        s = self.settings
        if s.budget_leader_loss is not None:
            leader = (s.budget_leader_loss, f"one election: --budget-leader-loss "
                                            f"{s.budget_leader_loss:g}s")
        else:
            leader = leader_loss_budget(self.target.start_flags)
        self.verifier = Verifier(workload, servers.endpoints, self.server_modes,
                                 leader_budget=leader, follower_budget=s.budget_follower_loss,
                                 zk_timeout=self._probe_timeout)
        self.note("workload", True, f"{len(workload.clients)} clients writing under "
                                    f"{workload.root}")
        self.roles = RoleSampler(self.server_modes).start()
        self._clock_origin = (time.monotonic(), now())
        return workload

    def _keep_lanes(self) -> None:
        """The report's write and role lanes, as offsets from the drill's start."""
        if self.verifier is None or self.roles is None:
            return
        changes = self.roles.stop()
        mono0, wall0 = self._clock_origin
        shift = (wall0 - self.recorder.record.started).total_seconds() - mono0
        record = self.recorder.record
        record.lanes["writes"] = [
            [round(op.completed + shift, 3), op.outcome] for op in
            self.verifier.workload.ledger.ops() if op.is_write and op.completed is not None]
        record.lanes["roles"] = [[round(at + shift, 3), pod, mode] for at, pod, mode in changes]
        self.roles = None

    @property
    def workload(self) -> Workload:
        if self.verifier is None:
            raise DrillFailure("this drill runs no workload (only destructive drills do)")
        return self.verifier.workload

    def finish_workload(self) -> None:
        """Stop the workload and judge it: nothing lost anywhere, a linearizable register."""
        if self.verifier is None:
            return
        with self.recorder("the workload: no acknowledged write lost on any server; "
                           "the register's history is linearizable"):
            problems, summary, notes = self.verifier.finish()
            self.recorder.record.workload = summary
            for name, ok, detail in notes:
                self.note(name, ok, detail)
            if problems:
                raise DrillFailure("; ".join(problems))

    def target_pod(self) -> str:
        """The pod ``--target`` names (leader, follower, a pod), or the tutorial's first."""
        wanted = self.settings.target
        if not wanted:
            return self.names[0]
        if wanted in ("leader", "follower"):
            modes = self.server_modes()
            chosen = sorted(p for p, m in modes.items() if m == wanted)
            if not chosen:
                raise DrillFailure(f"--target={wanted}: no server is a {wanted} now ({modes})")
            self.note("target", True, f"--target={wanted}: {chosen[0]}")
            return chosen[0]
        if wanted not in self.names:
            raise ConfigError(f"--target={wanted} is not a pod of the ensemble",
                              hint=f"use leader, follower or one of {', '.join(self.names)}")
        return wanted

    def role_of(self, pod: str) -> str:
        """``srvr``'s mode of one server (leader, follower, ... or unreachable)."""
        return self.server_modes().get(pod, "unknown")

    # -- what the drill is about -----------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return self.ensemble.names

    @property
    def target(self) -> Target:
        return self.ensemble.target

    @property
    def profile(self) -> ImageProfile:
        return self.ensemble.profile

    @property
    def settings(self) -> Settings:
        return self.ensemble.settings

    @property
    def timeouts(self) -> Timeouts:
        return self.ensemble.settings.timeouts

    @property
    def run_id(self) -> str:
        return self.ensemble.run_id

    @property
    def objects(self) -> ObjectReader:
        """Read access to the cluster, for the object conditions of ``harness.conditions``."""
        return self._cluster

    @property
    def creation(self) -> list[PodEvent] | None:
        """The pod events of the session's deploy, if it created the pods (else None)."""
        return self.ensemble.creation

    @property
    def faults(self) -> Faults:
        """This drill's faults (the destructive opt-in is checked on first use)."""
        if self._faults is None:
            if self._faults_factory is None:
                raise DrillFailure("this drill was built without faults")
            self._faults = self._faults_factory(self)
        return self._faults

    @property
    def faults_used(self) -> Faults | None:
        return self._faults

    # -- steps -----------------------------------------------------------------------------------
    @contextmanager
    def step(self, title: str, *, disturbs: Sequence[str] = (), may_lose_quorum: bool = False,
             whole: bool | None = None) -> Iterator[StepRecord]:
        """``with drill.step("..."):`` a recorded step, checked when it ends:

        - a pod not in ``disturbs`` that changed (uid, node, restarts, readiness) fails it;
        - with the workload running: every acknowledged write on every serving server, the
          servers agreeing, and the write unavailability within the step's budget (none
          when ``may_lose_quorum``);
        - ``whole`` (default: nothing disturbed and every pod Running and Ready at the end):
          exactly one leader, every other server following.
        """
        unknown = sorted(set(disturbs) - set(self.names))
        if unknown:
            raise ValueError(f"step {title!r} names pods outside the ensemble: {unknown}")
        before = self.pods.current()
        if self.verifier is not None:
            self.verifier.before_step()
        started = time.monotonic()
        with self.recorder.step(title, disturbs=disturbs) as record:
            yield record
            problems = bystander_changes(self.names, before, self.pods.current(), disturbs)
            self.note("pods this step did not declare are unchanged", not problems,
                      "; ".join(problems) or "none changed")
            if problems:
                raise DrillFailure("the step disturbed pods it did not declare: "
                                   + "; ".join(problems))
            if whole is None:
                current = self.pods.current()
                whole = not disturbs and all(
                    n in current and running_ready(current[n]) for n in self.names)
            if whole:
                self.wait_serving()
            if self.verifier is not None:
                verdict = self.verifier.after_step(started, disturbs, may_lose_quorum)
                for name, ok, detail in verdict.notes:
                    self.note(name, ok, detail)
                if verdict.problems:
                    raise DrillFailure("; ".join(verdict.problems))

    def note(self, name: str, ok: bool, detail: str = "") -> None:
        self.recorder.note(name, ok, detail)

    def command(self, text: str) -> None:
        self.recorder.command(text)

    # -- waiting ---------------------------------------------------------------------------------
    def wait(self, condition: Condition, *, timeout: float | None = None,
             recheck: float = 2.0) -> Progress:
        """``wait_for`` bounded by the condition's timeout class unless ``timeout`` is given;
        progress is recorded in the current step."""
        if timeout is None:
            timeout = float(getattr(self.timeouts, condition.timeout_class))
        return wait_for(condition, timeout=timeout, recheck=recheck,
                        on_progress=lambda p: self.recorder.progress(p.detail))

    def wait_ready(self) -> Progress:
        """Every pod of the ensemble Running and Ready (with a diagnosis if they never are)."""
        try:
            return self.wait(pods_ready(self.pods, self.target.replicas, self.names))
        except WaitTimeout as exc:
            raise DrillFailure(f"{exc}{self.ensemble.diagnose(self.pods.current())}") from exc

    def wait_serving(self) -> Progress:
        """One leader and every other server following: Ready (``ruok``) is not enough, a
        server answers ``imok`` before it has joined the quorum."""
        return self.wait(ensemble_serving(self.pods, self.ensemble.servers.modes,
                                          self.target.replicas), recheck=0.5)

    def wait_rolled_out(self) -> Progress:
        return self.wait(statefulset_rolled_out(self.pods, self._cluster, self.target.statefulset))

    # -- in the pods -----------------------------------------------------------------------------
    def exec(self, pod: str, command: Sequence[str], *, timeout: float = 60.0) -> ExecResult:
        """``kubectl exec POD -- COMMAND`` in the ZooKeeper container; recorded in the step."""
        result = self._cluster.exec(pod, command, container=self.target.container,
                                    timeout=timeout)
        self.command(result.describe())
        return result

    def logs(self, pod: str, *, tail: int | None = None, previous: bool = False) -> str:
        text = self._cluster.logs(pod, container=self.target.container, tail=tail,
                                  previous=previous)
        self.command(f"kubectl logs {pod}" + (f" --tail {tail}" if tail else "")
                     + f" -> {len(text.splitlines())} lines")
        return text

    # -- objects, as typed views -----------------------------------------------------------------
    def statefulset(self) -> StatefulSetView:
        found = self._cluster.statefulset(self.target.statefulset)
        if found is None:
            raise DrillFailure(f"statefulset {self.target.statefulset} does not exist")
        return StatefulSetView(found)

    def nodes(self) -> list[NodeView]:
        return [NodeView(n) for n in self._cluster.nodes()]

    def budgets(self) -> list[BudgetView]:
        """The PodDisruptionBudgets that select the ensemble's pods."""
        return budgets_selecting(self._cluster, self.statefulset().template_labels)

    def client_service(self) -> str:
        """The Service with a cluster IP that selects the ensemble's pods (``zk-cs``)."""
        labels = self.statefulset().template_labels
        found = [s for s in services_selecting(self._cluster, labels) if not s.headless]
        if not found:
            raise DrillFailure(f"no Service with a cluster IP selects the pods {labels}")
        return found[0].name

    def endpoint_state(self, service: str, pod: str) -> str:
        """``ready``, ``notReady`` or ``absent``: where ``pod`` is in ``service``'s Endpoints."""
        return endpoint_state(self._cluster.endpoints(service), pod)

    def events_for(self, pod: str, reason: str) -> list[str]:
        """Messages of the events about ``pod`` with ``reason`` (``kubectl describe pod``)."""
        return [str(e.get("message")) for e in self._cluster.events_for(pod)
                if e.get("reason") == reason]

    def probe(self, pod: str, kind: str) -> ProbeTimes | None:
        """The ``liveness``/``readiness`` probe timings of the live pod's container."""
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        return container_of(found["spec"], self.target.container).probe(kind)

    def container_cpu(self, pod: str) -> str | None:
        found = self._cluster.pod(pod)
        if found is None:
            raise DrillFailure(f"pod {pod} does not exist")
        return container_of(found["spec"], self.target.container).cpu_request

    def revisions(self) -> list[dict[str, Any]]:
        """``kubectl rollout history``: the set's ControllerRevisions, oldest first."""
        return revisions(self._cluster, self.target.statefulset)

    def rollout_undo(self) -> None:
        self.command(rollout_undo(self._cluster, self.target.statefulset))

    # -- the ensemble as a whole -----------------------------------------------------------------
    def apply(self) -> None:
        """``kubectl apply`` the manifest (or re-create the StatefulSet found)."""
        self.command(self.ensemble.apply())

    def delete_statefulset(self) -> None:
        self.command(self.ensemble.delete_statefulset())

    def data_claim(self, pod: str) -> dict[str, Any] | None:
        """The PVC mounted at the data directory of ``pod``, or None (e.g. an emptyDir)."""
        volume = self.ensemble.data_volume(self._raw(pod)) or {}
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        return self._cluster.pvc(str(claim)) if claim else None

    def describe_data_volume(self, pod: str) -> str:
        """``claim datadir-zk-2`` / ``emptyDir volume 'datadir'``, for failure messages."""
        volume = self.ensemble.data_volume(self._raw(pod))
        if volume is None:
            return f"no volume at {self.profile.data_dir} (container file system)"
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            return f"claim {claim}"
        kind = next((k for k in volume if k != "name"), "unknown")
        return f"{kind} volume {volume.get('name')!r}, not a PersistentVolumeClaim"

    def deploy(self) -> None:
        """Apply the manifest (or adopt the live ensemble) and reach the steady state,
        keeping the creation's pod events when this deploy created the pods."""
        existed = bool(self.pods.current())
        if self.ensemble.manifest is not None:
            with self.recorder("apply the manifest (server-side apply)"):
                self.apply()
        with self.recorder(f"wait for {self.target.replicas} pods Running and Ready"):
            self.wait_ready()
        if not existed:
            self.ensemble.creation = self.pods.events()
        self.steady_state("after deployment")

    def steady_state(self, where: str) -> None:
        """N/N Running and Ready, rolled out, one leader, every sentinel on every server."""
        n = self.target.replicas
        with self.recorder(f"steady state {where}: {n}/{n} Ready, one leader, same data"):
            self.wait_ready()
            self.wait_rolled_out()
            self.wait_serving()
            leader = self.zk.leader()
            if not self.ensemble.sentinels_written:
                self.zk.write_sentinels(leader)
                self.ensemble.sentinels_written = True
            self.zk.check_sentinels()

    def repair(self) -> None:
        """Re-apply, wait for the steady state, and re-write sentinels a drill lost."""
        with self.recorder("repair: re-apply the manifest, re-write lost sentinels"):
            self.apply()
            self.wait_ready()
            self.zk.write_sentinels(self.zk.leader())
        self.steady_state("after repair")

    def _raw(self, pod: str) -> dict[str, Any] | None:
        return self.pods.raw(pod) or self._cluster.pod(pod)

    def server_modes(self) -> dict[str, str]:
        """``srvr``'s mode of every server whose pod is running; the others are "down"."""
        from harness.zk.fourletter import ensemble_modes

        servers = self.ensemble.servers
        running = [p for p in self.names if self._running(p)]
        modes = ensemble_modes({p: servers.endpoint(p) for p in running},
                               timeout=self._probe_timeout) if running else {}
        return {p: modes.get(p, "down") for p in self.names}

    @property
    def _probe_timeout(self) -> float:
        """For the per-step look at the servers: one that does not answer srvr within a few
        seconds is not serving (the end-of-drill check uses the full ``zk`` timeout)."""
        return min(self.timeouts.zk, 3.0)

    def _running(self, pod: str) -> bool:
        snap = self.pods.current().get(pod)
        return snap is not None and snap.status == "Running" and not snap.deleting
