"""One container of a pod across its restarts: start, probes, exit, restart policy, back-off.

The `PodWorker` calls `sync()` from its serial loop; everything that takes time (pulls,
start, stops with a grace period) happens there. Exits and probe results arrive from
background tasks and only update the `ContainerRecord`, write status and wake the worker.

Restart rules (kuberuntime_manager.go computePodActions/doBackOff): Always restarts every
exit, OnFailure non-zero exits, Never nothing. The first restart is immediate; an exit
while the container's back-off window is open waits (CrashLoopBackOff, Warning `BackOff`).
A liveness/startup failure kills the container (SIGTERM, grace = the probe's
terminationGracePeriodSeconds or the pod's, at least 2 s) and starts it again in the same
pass, so its terminated state is never reported as the current state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import TYPE_CHECKING

from localkube.kubelet.backoff import go_duration
from localkube.kubelet.env import ConfigError, build_env, expand
from localkube.kubelet.images import PullFailure
from localkube.kubelet.index import ContainerHandle
from localkube.kubelet.prober import (
    LIVENESS,
    READINESS,
    STARTUP,
    ProbeSpec,
    ProbeWorker,
    run_handler,
)
from localkube.kubelet.security import effective, verify_run_as_non_root
from localkube.kubelet.status import ContainerRecord, Instance, volume_mounts_status
from localkube.runtime import (
    Container,
    ContainerRuntimeError,
    ContainerSpec,
    ContainerStateError,
    ExecTimeout,
    VolumeMount,
    run_exec,
)

if TYPE_CHECKING:
    from localkube.kubelet.pod import PodWorker

log = logging.getLogger("localkube.kubelet")

MIN_KILL_GRACE = 2
CONFIG_RETRY = 10.0
PROBES = ((STARTUP, "startupProbe"), (LIVENESS, "livenessProbe"), (READINESS, "readinessProbe"))


class ContainerRunner:
    """The kubelet's handling of one named container of one pod."""

    def __init__(self, worker: PodWorker, spec: dict) -> None:
        self.worker = worker
        self.ctx = worker.ctx
        self.spec = spec
        self.name = str(spec["name"])
        self.record = ContainerRecord(self.name, str(spec.get("image", "")),
                                      volume_mounts=volume_mounts_status(spec))
        self.container: Container | None = None
        self.handle: ContainerHandle | None = None
        self.started_image: str | None = None
        self.killing = False
        self.kill_request: float | None = None
        self._probes: list[ProbeWorker] = []
        self._watch: asyncio.Task[None] | None = None
        self._instance = 0

    @property
    def pod(self) -> dict:
        return self.worker.pod

    def probe(self, key: str) -> ProbeSpec | None:
        probe = self.spec.get(key)
        return ProbeSpec.parse(probe) if isinstance(probe, dict) else None

    # -- the worker's pass ---------------------------------------------------------------
    async def sync(self) -> float | None:
        """Start the container if due; returns seconds after which to look again."""
        rec = self.record
        event_time: float | None = None
        if self.kill_request is not None:
            grace, self.kill_request = self.kill_request, None
            event_time = rec.previous.finished_at if rec.previous else None
            await self._stop(grace, hold_status=True)
        elif rec.running and self.spec.get("image") != self.started_image:
            self.ctx.event(self.pod, "Normal", "Killing",
                           f"Container {self.name} definition changed, will be restarted")
            await self._stop(self._grace(None), hold_status=True)
        elif rec.exited:
            event_time = rec.current.finished_at if rec.current else None
        if rec.running:
            return None
        if rec.exited:
            if not self._should_restart():
                rec.waiting = None
                return None
            if event_time is not None:
                wait = self._crash_backoff(event_time)
                if wait:
                    return wait
        return await self._start()

    def _should_restart(self) -> bool:
        current = self.record.current
        if current is None:
            return True  # never started yet
        if current.running:
            return False
        policy = (self.pod.get("spec") or {}).get("restartPolicy", "Always")
        return policy == "Always" or (policy == "OnFailure" and current.exit_code != 0)

    def _crash_backoff(self, event_time: float) -> float:
        backoff, now = self.worker.backoff, self.ctx.now()
        if backoff.in_backoff_since(self.name, event_time, now):
            meta = self.pod["metadata"]
            pod_ref = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
            message = (f"back-off {go_duration(backoff.delay(self.name))} restarting failed "
                       f"container={self.name} pod={pod_ref}")
            if self.record.waiting != ("CrashLoopBackOff", message):
                self.ctx.event(self.pod, "Warning", "BackOff",
                               f"Back-off restarting failed container {self.name} in pod "
                               f"{pod_ref}")
            self.record.waiting = ("CrashLoopBackOff", message)
            return max(0.05, backoff.remaining_since(self.name, event_time, now))
        backoff.next(self.name, event_time, now)
        return 0.0

    async def _start(self) -> float | None:
        rec, pod, ctx = self.record, self.pod, self.ctx
        pulled = await self.worker.images.ensure(pod, self.spec)
        if isinstance(pulled, PullFailure):
            rec.waiting = (pulled.reason, pulled.message)
            return pulled.retry_after
        if self.worker.stopping():
            return None
        try:
            cspec = self._container_spec(pulled)
            assert self.worker.sandbox is not None
            container = Container(cspec, self.worker.sandbox, instance=self._instance,
                                  cache_dir=ctx.cache_dir)
            await container.start()
        except (ConfigError, ContainerRuntimeError) as exc:
            reason = "CreateContainerConfigError" if isinstance(exc, ConfigError) \
                else "CreateContainerError"
            rec.waiting = (reason, str(exc))
            ctx.event(pod, "Warning", "Failed", f"Error: {exc}")
            return CONFIG_RETRY
        self._instance += 1
        self.started_image = self.spec.get("image")
        ctx.event(pod, "Normal", "Created", f"Created container {self.name}")
        ctx.event(pod, "Normal", "Started", f"Started container {self.name}")
        if rec.current is not None:
            rec.previous = rec.current
            rec.restart_count += 1
        instance = Instance(container.id, container.started_at or ctx.now())
        rec.current, rec.waiting = instance, None
        rec.image, rec.image_id = str(pulled.reference), pulled.image_id
        rec.started = self.probe("startupProbe") is None
        rec.ready = rec.started and self.probe("readinessProbe") is None
        self.container = container
        previous_log = container.sandbox.log_path(self.name, self._instance - 2) \
            if self._instance > 1 else None
        self.handle = ContainerHandle(
            pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"],
            self.name, container, container.id, self.worker.ip, container.log_path,
            previous_log if previous_log and previous_log.exists() else None)
        ctx.index.publish(self.handle)
        probes = self._start_probes(container)
        self._watch = asyncio.create_task(self._wait_exit(container, instance, self.handle,
                                                          probes))
        return None

    def _container_spec(self, image: object) -> ContainerSpec:
        pod, spec = self.pod, self.spec
        pod_sc = (pod.get("spec") or {}).get("securityContext") or {}
        verify_run_as_non_root(pod, spec, getattr(image, "user", None))
        env = build_env(self.ctx.registry.store, pod, spec, self.worker.ip or "",
                        self.ctx.host_ip)
        command = [expand(str(a), env) for a in spec.get("command") or []] or None
        args = [expand(str(a), env) for a in spec["args"]] if "args" in spec else None
        mounts = [VolumeMount(m.source, m.target, m.read_only, manage_ownership=m.owned)
                  for m in self.worker.mounts_for(spec)]
        return ContainerSpec(
            name=self.name, image=image, command=command, args=args,  # type: ignore[arg-type]
            env=env, working_dir=spec.get("workingDir") or None,
            run_as_user=effective(pod, spec, "runAsUser"),
            run_as_group=effective(pod, spec, "runAsGroup"),
            fs_group=pod_sc.get("fsGroup"),
            supplemental_groups=tuple(pod_sc.get("supplementalGroups") or ()),
            volume_mounts=mounts,
            termination_message_path=spec.get("terminationMessagePath", "/dev/termination-log"),
            read_only_root=bool(effective({}, spec, "readOnlyRootFilesystem")),
        )

    # -- probes --------------------------------------------------------------------------
    def _start_probes(self, container: Container) -> list[ProbeWorker]:
        probes = []
        for kind, key in PROBES:
            spec = self.probe(key)
            if spec is None:
                continue
            run = partial(run_handler, spec, self.worker.ip or "", self.spec,
                          partial(_exec, container))
            gate = None if kind == STARTUP else (lambda: self.record.started)
            worker = ProbeWorker(kind, spec, run, partial(self._on_probe, container, spec), gate)
            worker.start(spec.initial_delay)
            probes.append(worker)
        self._probes = probes
        return probes

    def _on_probe(self, container: Container, spec: ProbeSpec, kind: str, ok: bool,
                  output: str, reached: bool) -> None:
        if container is not self.container or not self.record.running or self.killing:
            return
        if not ok:
            self.ctx.event(self.pod, "Warning", "Unhealthy", f"{kind} probe failed: {output}")
        if not reached:
            return
        rec = self.record
        if kind == READINESS and rec.ready != ok:
            rec.ready = ok
            self.worker.write_status()
        elif kind == STARTUP and ok and not rec.started:
            rec.started = True
            rec.ready = self.probe("readinessProbe") is None
            self.worker.write_status()
        elif kind in (LIVENESS, STARTUP) and not ok:
            self.ctx.event(self.pod, "Normal", "Killing",
                           f"Container {self.name} failed {kind.lower()} probe, will be restarted")
            rec.ready = False
            self.worker.write_status()
            self.kill_request = self._grace(spec)
            self.worker.kick()

    def _grace(self, probe: ProbeSpec | None) -> float:
        if probe is not None and probe.termination_grace is not None:
            grace = probe.termination_grace
        else:
            grace = int((self.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))
        return max(MIN_KILL_GRACE, grace)

    # -- exits and stops -----------------------------------------------------------------
    async def _wait_exit(self, container: Container, instance: Instance,
                         handle: ContainerHandle, probes: list[ProbeWorker]) -> None:
        code = await container.wait()
        for probe in probes:
            probe.stop()
        instance.exit_code = code
        instance.finished_at = container.finished_at or self.ctx.now()
        instance.reason = "Completed" if code == 0 else "Error"
        instance.message = (container.termination_message or container.exit_message or
                            None)
        handle.mark_stopped()
        if container is self.container:
            self.record.ready = self.record.started = False
        if not self.killing and not self.worker.terminating:
            self.worker.container_exited()

    async def _stop(self, grace: float, hold_status: bool = False) -> None:
        """Stop the current instance and wait until its exit has been recorded."""
        container, watch = self.container, self._watch
        if container is None or not self.record.running:
            return
        self.killing = True
        if hold_status:
            self.worker.hold_status += 1
        try:
            for probe in self._probes:
                probe.stop()
            with contextlib.suppress(ContainerStateError):
                await container.stop(grace)
            if watch is not None:
                await asyncio.shield(watch)
        finally:
            self.killing = False
            if hold_status:
                self.worker.hold_status -= 1

    async def stop_for_termination(self, grace: float) -> None:
        if self.record.running:
            self.ctx.event(self.pod, "Normal", "Killing", f"Stopping container {self.name}")
        await self._stop(grace)

    def force_kill(self) -> None:
        if self.container is not None and self.record.running:
            self.container.kill()

    def stop_probes(self) -> None:
        for probe in self._probes:
            probe.stop()


async def _exec(container: Container, argv: list[str], timeout: float) -> tuple[int, str]:
    """A probe's exec: exit code and combined output; TimeoutError past the timeout."""
    try:
        result = await run_exec(container, argv, timeout)
    except ExecTimeout:
        raise TimeoutError from None
    except ContainerStateError as exc:
        return 1, str(exc)
    return result.exit_code, (result.stdout + result.stderr).decode(errors="replace")
