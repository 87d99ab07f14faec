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
    POD_READY,
    ROLLOUT,
    ensemble_serving,
    giving_up_when_stuck,
    pods_ready,
    running_ready,
    statefulset_at_rest,
)
from harness.drill_objects import DrillBase
from harness.ensemble import Ensemble
from harness.errors import ConfigError, DrillFailure, HarnessError, PodCannotStart, WaitTimeout
from harness.faults import Faults, StatefulSetDeletion
from harness.kube.exec import ExecResult
from harness.kube.watch import PodWatcher
from harness.model.availability import leader_loss_budget
from harness.model.bystanders import bystander_changes
from harness.model.progress import Progress
from harness.model.zoocfg import ZooConfig, parse_zoo_cfg
from harness.servers import ZooKeeper
from harness.steps import DrillRecorder, StepRecord, now
from harness.verify import Verifier
from harness.waits import Condition, wait_for
from harness.zk.roles import RoleSampler
from harness.zk.workload import Workload


class Drill(DrillBase):
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
            flags = self.target.start_flags
            live: dict[str, str] = {}
            if "tick_time" not in flags or "init_limit" not in flags:
                try:
                    live = dict(self.zoo_cfg(self.names[0]).values)
                except HarnessError as exc:
                    self.note("zoo.cfg", False, f"initLimit/tickTime unknown: {exc}")
            leader = leader_loss_budget(flags, live)
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

    def measure(self, name: str, seconds: float) -> None:
        """Keep a figure the drill measured (in the JSON report's ``measures``)."""
        self.recorder.record.measures[name] = round(seconds, 3)

    def role_at(self, pod: str, instant: float) -> str:
        """``pod``'s role as sampled at a ``time.monotonic()`` instant of this drill (the
        workload's role sampler; "unknown" without it)."""
        return self.roles.role_at(pod, instant) if self.roles is not None else "unknown"

    def role_of(self, pod: str) -> str:
        """``srvr``'s mode of one server (leader, follower, ... or unreachable)."""
        return self.server_modes().get(pod, "unknown")

    @property
    def faults(self) -> Faults:
        """This drill's faults (the destructive opt-in is checked on first use)."""
        if self._faults is None:
            if self._faults_factory is None:
                raise DrillFailure("this drill was built without faults")
            self._faults = self._faults_factory(self)
        return self._faults

    def delete_statefulset(self) -> StatefulSetDeletion:
        """``kubectl delete statefulset`` as a journaled fault: a run killed before the set
        is applied again has it created again by the next run or ``--zkdrill-repair``."""
        return self.faults.delete_statefulset(self.target.statefulset,
                                              self.ensemble.statefulset_document())

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

    # -- waiting ---------------------------------------------------------------------------------
    def wait(self, condition: Condition, *, timeout: float | None = None,
             recheck: float = 2.0) -> Progress:
        """``wait_for`` bounded by the condition's timeout class unless ``timeout`` is given;
        progress is recorded in the current step."""
        if timeout is None:
            timeout = float(getattr(self.timeouts, condition.timeout_class))
        if condition.timeout_class in (ROLLOUT, POD_READY):
            condition = giving_up_when_stuck(condition, self.pods, self.names)
        try:
            return wait_for(condition, timeout=timeout, recheck=recheck,
                            on_progress=lambda p: self.recorder.progress(p.detail))
        except PodCannotStart as exc:
            raise PodCannotStart(exc.pod, f"{exc}{self._warnings(exc.pod, str(exc))}") from None

    def _warnings(self, pod: str, said: str) -> str:
        """The pod's latest distinct Warning events (``kubectl describe pod``) not already
        ``said``, for a wait that gave up: the kubelet's or scheduler's own words."""
        try:
            events = self._cluster.events_for(pod)
        except HarnessError:
            return ""
        messages: list[str] = []
        for event in reversed(events):
            message = str(event.get("message") or "")
            if event.get("type") == "Warning" and message and not message.startswith("Error: ") \
                    and message not in messages and message not in said:
                messages.append(message)
        return f" (events: {'; '.join(messages[:2])})" if messages else ""

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
        return self.wait(statefulset_at_rest(self.pods, self._cluster, self.target.statefulset))

    # -- in the pods -----------------------------------------------------------------------------
    def exec(self, pod: str, command: Sequence[str], *, timeout: float = 60.0) -> ExecResult:
        """``kubectl exec POD -- COMMAND`` in the ZooKeeper container; recorded in the step."""
        result = self._cluster.exec(pod, command, container=self.target.container,
                                    timeout=timeout)
        self.command(result.describe())
        return result

    def zoo_cfg(self, pod: str) -> ZooConfig:
        """``kubectl exec POD -- cat <conf_path>`` parsed, with the servers of its
        ``dynamicConfigFile`` when it names one (3.5+ dynamic reconfiguration)."""
        path = self.profile.conf_path
        result = self.exec(pod, ["cat", path])
        if not result.ok:
            raise DrillFailure(f"cannot read {path} in {pod}: {result.describe()}")
        text = result.stdout
        dynamic = parse_zoo_cfg(text).get("dynamicConfigFile")
        if dynamic:
            extra = self.exec(pod, ["cat", dynamic])
            if not extra.ok:
                raise DrillFailure(f"cannot read {dynamic} (dynamicConfigFile of {path}) in "
                                   f"{pod}: {extra.describe()}")
            text += "\n" + extra.stdout
        return parse_zoo_cfg(text)

    def logs(self, pod: str, *, tail: int | None = None, previous: bool = False) -> str:
        text = self._cluster.logs(pod, container=self.target.container, tail=tail,
                                  previous=previous)
        self.command(f"kubectl logs {pod}" + (f" --tail {tail}" if tail else "")
                     + f" -> {len(text.splitlines())} lines")
        return text

    def leader_metrics(self) -> dict[str, Any]:
        """``mntr`` of the server that leads now ({} while none does), by four-letter word
        or through the AdminServer as the image profile says (``Servers.mntr``)."""
        modes = self.server_modes()
        leader = next((p for p, m in modes.items() if m == "leader"), None)
        if leader is None:
            return {}
        try:
            return dict(self.ensemble.servers.mntr(leader, timeout=self._probe_timeout).values)
        except HarnessError:
            return {}

    def server_versions(self) -> str:
        """``zk-0 3.8.0, zk-1 3.8.0, ...``: the version each server reports (``srvr``)."""
        versions = []
        for pod in self.names:
            try:
                versions.append(f"{pod} {self.ensemble.servers.srvr(pod).version.split('-')[0]}")
            except HarnessError as exc:
                versions.append(f"{pod} ? ({exc})")
        return ", ".join(versions)

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

    def server_modes(self) -> dict[str, str]:
        """``srvr``'s mode of every server whose pod is running; the others are "down"."""
        running = [p for p in self.names if self._running(p)]
        modes = self.ensemble.servers.modes(running, timeout=self._probe_timeout) \
            if running else {}
        return {p: modes.get(p, "down") for p in self.names}

    @property
    def _probe_timeout(self) -> float:
        """For the per-step look at the servers: one that does not answer srvr within a few
        seconds is not serving (the end-of-drill check uses the full ``zk`` timeout)."""
        return min(self.timeouts.zk, 3.0)

    def _running(self, pod: str) -> bool:
        snap = self.pods.current().get(pod)
        return snap is not None and snap.status == "Running" and not snap.deleting
