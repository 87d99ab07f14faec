"""The pod worker: one serial loop per pod UID, like the kubelet's pod workers.

A pass (`sync`) does, in the kubelet's order: volumes (waiting in ContainerCreating while
a claim is unbound), the sandbox (pod IP, hosts/hostname/resolv.conf, cluster DNS
records), then each container (`ContainerRunner.sync`), and finally writes the status.
Store changes, container exits, probe results and timers wake the loop; passes never
overlap, so a deletion that arrives while the sandbox is being built is handled by the
next pass, which tears down whatever exists.

Termination (deletionTimestamp, removal from the API, or localkube shutting down):
Killing events, SIGTERM to every container, SIGKILL after the grace period, the final
status (phase Failed, or Succeeded when all exited 0), the sandbox removed and the pod
IP released, and only then the pod object deleted with `gracePeriodSeconds: 0` and a UID
precondition, so the object disappears only after its processes did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.kubelet.backoff import Backoff
from localkube.kubelet.containers import MIN_KILL_GRACE, ContainerRunner
from localkube.kubelet.context import NodeContext
from localkube.kubelet.images import ImageManager
from localkube.kubelet.index import ContainerHandle
from localkube.kubelet.network import SandboxInfo
from localkube.kubelet.status import (
    merge_conditions,
    pod_conditions,
    pod_phase,
    resumed_instance,
    rfc3339,
)
from localkube.kubelet.volumes import (
    Mount,
    PreparedVolume,
    VolumesPending,
    container_mounts,
    prepare_volumes,
)
from localkube.registry.podutil import parse_stamp
from localkube.runtime import PodSandbox

log = logging.getLogger("localkube.kubelet")

MOUNT_TIMEOUT = 120.0
RETRY = 1.0


class PodWorker:
    """Drives one pod (by UID) on one node from admission until its object is gone."""

    def __init__(self, ctx: NodeContext, pod: dict, on_done: Callable[[PodWorker], None]) -> None:
        meta = pod["metadata"]
        self.ctx = ctx
        self.pod = pod
        self.uid: str = meta["uid"]
        self.namespace: str = meta["namespace"]
        self.name: str = meta["name"]
        self.images = ImageManager(ctx)
        self.backoff = Backoff()
        self.runners = [ContainerRunner(self, c) for c in (pod.get("spec") or {})
                        .get("containers") or []]
        self.sandbox: PodSandbox | None = None
        self.ip: str | None = None
        self._ip_released = False
        self.volumes: dict[str, PreparedVolume] | None = None
        self.volumes_dirty = False
        self.waiting_volumes = False
        self.gone = False
        self.powered_off = False
        self.shutdown_grace: float | None = None
        self.terminating = False
        self.hold_status = 0
        self.start_time: float | None = None
        self._on_done = on_done
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._mount_wait_since: float | None = None
        self.task: asyncio.Task[None] | None = None
        ctx.index.register_pod(self.namespace, self.name, self.uid, [r.name for r in self.runners])
        for runner in self.runners:
            ctx.index.publish(ContainerHandle(self.namespace, self.name, self.uid, runner.name,
                                              None, None, None, None, None, "ContainerCreating"))
        self._resume(pod.get("status") or {})

    def _resume(self, status: dict) -> None:
        """A pod that ran here before the machine was switched off: its containers died
        with it, as containerd reports them after a reboot (exit code 255, reason
        Unknown), so starting them again counts as a restart."""
        started = parse_stamp(status.get("startTime"))
        if started is None:
            return
        self.start_time = started
        seen = {c.get("name"): c for c in status.get("containerStatuses") or []}
        now = self.ctx.now()
        for runner in self.runners:
            last = seen.get(runner.name) or {}
            resumed = resumed_instance(last, now)
            if resumed is None:
                continue
            rec = runner.record
            rec.current, rec.waiting = resumed, None
            rec.restart_count = int(last.get("restartCount") or 0)
            rec.image_id = str(last.get("imageID") or "")

    # -- inputs --------------------------------------------------------------------------
    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"pod {self.namespace}/{self.name}")
        self.kick()

    def update(self, pod: dict) -> None:
        """A newer version of the pod object; status-only changes do not wake the loop."""
        old, self.pod = self.pod, pod
        for runner in self.runners:
            runner.spec = next((c for c in pod["spec"].get("containers") or []
                                if c.get("name") == runner.name), runner.spec)
        was, now = old["metadata"], pod["metadata"]
        if old.get("spec") != pod.get("spec") or \
                was.get("deletionTimestamp") != now.get("deletionTimestamp"):
            self.kick()

    def mark_gone(self) -> None:
        """The pod object was removed from the API (e.g. force deletion)."""
        self.gone = True
        self.kick()

    def power_off(self) -> None:
        """The machine lost power: SIGKILL everything now and say nothing to the API."""
        self.powered_off = True
        for runner in self.runners:
            runner.stop_probes()
        self._kill_all()
        self.kick()

    def request_shutdown(self, cap: float) -> None:
        """localkube stops: terminate with at most `cap` seconds of grace, API untouched."""
        self.shutdown_grace = cap
        if self.terminating:  # already stopping with the pod's own, maybe longer, grace
            asyncio.get_running_loop().call_later(cap, self._kill_all)
        self.kick()

    def _kill_all(self) -> None:
        for runner in self.runners:
            runner.force_kill()

    def kick(self, delay: float = 0.0) -> None:
        if delay > 0:
            loop = asyncio.get_running_loop()
            if self._timer is not None and self._timer.when() <= loop.time() + delay:
                return  # an earlier wake-up is already due
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_later(delay, self._on_timer)
            return
        self._wake.set()

    def _on_timer(self) -> None:
        self._timer = None
        self._wake.set()

    def stopping(self) -> bool:
        return self.gone or self.powered_off or self.shutdown_grace is not None or \
            bool(self.pod["metadata"].get("deletionTimestamp"))

    # -- the loop ------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if self.powered_off:
                    return  # the finally clause kills what runs and removes the sandbox
                if self.stopping():
                    await self._terminate()
                    return
                try:
                    await self._sync()
                except Exception:
                    log.exception("pod %s/%s: sync failed", self.namespace, self.name)
                    self.kick(RETRY)
        finally:
            if not self.terminating or self.sandbox is not None:
                await self._force_cleanup()
            self._on_done(self)

    async def _sync(self) -> None:
        if self.start_time is None:
            self.start_time = self.ctx.now()
            self.write_status()
        if (self.volumes is None or self.volumes_dirty) and not self._prepare_volumes():
            return
        if self.sandbox is None:
            self._create_sandbox()
        delays = []
        for runner in self.runners:
            if self.stopping():
                return
            delays.append(await runner.sync())
            handle = self.ctx.index.lookup(self.namespace, self.name, runner.name)
            if handle is not None and handle.container is None and runner.record.waiting:
                handle.waiting_reason = runner.record.waiting[0]
        self.write_status()
        pending = [d for d in delays if d is not None]
        if pending:
            self.kick(min(pending))

    def _prepare_volumes(self) -> bool:
        try:
            self.volumes = prepare_volumes(self.ctx.registry.store, self.pod, self.pod_dir)
        except VolumesPending as exc:
            self.waiting_volumes = True
            now = self.ctx.now()
            self._mount_wait_since = self._mount_wait_since or now
            if "configmap" in str(exc) or now - self._mount_wait_since >= MOUNT_TIMEOUT:
                self.ctx.event(self.pod, "Warning", "FailedMount", str(exc))
                self._mount_wait_since = now
            self.write_status()
            self.kick(MOUNT_TIMEOUT)
            return False
        self.waiting_volumes = self.volumes_dirty = False
        return True

    @property
    def pod_dir(self) -> Path:
        return self.ctx.pods_dir / self.uid

    def mounts_for(self, container: dict) -> list[Mount]:
        return container_mounts(container, self.volumes or {})

    def uses_config_maps(self) -> bool:
        return any("configMap" in v for v in (self.pod.get("spec") or {}).get("volumes") or [])

    def _create_sandbox(self) -> None:
        spec = self.pod.get("spec") or {}
        if self.ip is None:  # kept across a failed attempt: never two addresses per pod
            self.ip = self.ctx.ipam.allocate(self.ctx.node)
        sandbox = PodSandbox(self.pod_dir, ip=self.ip, name=self.name, namespace=self.namespace,
                             hostname=spec.get("hostname") or None,
                             subdomain=spec.get("subdomain") or None,
                             cluster_domain=self.ctx.cluster_domain)
        sandbox.create(())
        self.sandbox = sandbox
        self.ctx.sandboxes.add(SandboxInfo(self.uid, self.namespace, self.name, self.ip,
                                           sandbox.update_hosts))
        for runner in self.runners:
            handle = self.ctx.index.lookup(self.namespace, self.name, runner.name)
            if handle is not None and handle.container is None:
                handle.pod_ip = self.ip
        self.ctx.dns.sync()
        self.write_status()

    def container_exited(self) -> None:
        """A container ended on its own: report it now, then let the loop decide."""
        self.write_status()
        self.kick()

    # -- status --------------------------------------------------------------------------
    def write_status(self, final: bool = False) -> None:
        """Write the kubelet-owned status fields when they changed (status subresource)."""
        if (self.hold_status and not final) or self.gone or self.powered_off or \
                self.start_time is None:
            return
        records = [r.record for r in self.runners]
        spec = self.pod.get("spec") or {}
        phase = pod_phase(spec.get("restartPolicy", "Always"), records, final)
        sandbox_ready = self.sandbox is not None and not final
        now = self.ctx.now()

        def apply(obj: dict) -> bool:
            if obj["metadata"].get("uid") != self.uid:
                return False
            status = obj.setdefault("status", {})
            existing = status.get("conditions") or []
            status["phase"] = phase
            status["conditions"] = merge_conditions(
                pod_conditions(spec, records, phase, sandbox_ready, existing), existing, now)
            status["hostIP"] = self.ctx.host_ip
            status["hostIPs"] = [{"ip": self.ctx.host_ip}]
            if self.ip:
                status["podIP"] = self.ip
                status["podIPs"] = [{"ip": self.ip}]
            status["startTime"] = status.get("startTime") or rfc3339(self.start_time or now)
            status["containerStatuses"] = [r.api() for r in records]
            return True

        try:
            self.ctx.registry.mutate(R.PODS, self.namespace, self.name, apply,
                                     subresource="status")
        except ApiError as exc:
            log.warning("pod %s/%s: status update failed: %s", self.namespace, self.name, exc)

    # -- termination ---------------------------------------------------------------------
    def _grace(self) -> float:
        """kubelet 1.32: the deletion's grace period (the spec's when force-deleted, as
        calculateEffectiveGracePeriod falls back to it), never under 2 s (killContainer)."""
        meta, spec = self.pod["metadata"], self.pod.get("spec") or {}
        deletion = meta.get("deletionGracePeriodSeconds")
        if deletion and not self.gone:
            grace = float(deletion)
        else:
            grace = float(spec.get("terminationGracePeriodSeconds", 30))
        grace = max(float(MIN_KILL_GRACE), grace)
        if self.shutdown_grace is not None:
            grace = min(grace, self.shutdown_grace)
        return grace

    async def _terminate(self) -> None:
        self.terminating = True
        grace = self._grace()
        for runner in self.runners:
            runner.stop_probes()
        await asyncio.gather(*(r.stop_for_termination(grace) for r in self.runners))
        for runner in self.runners:
            runner.record.finalize()
        self._teardown()
        if self.shutdown_grace is not None or self.gone or self.powered_off:
            return
        self.write_status(final=True)
        with contextlib.suppress(ApiError):
            self.ctx.registry.delete(R.PODS, self.namespace, self.name, {
                "gracePeriodSeconds": 0, "preconditions": {"uid": self.uid}})

    def _teardown(self) -> None:
        """Remove the sandbox (all processes are gone by now) and release the pod IP."""
        self.ctx.sandboxes.remove(self.uid)
        if self.sandbox is not None:
            self.sandbox.remove()
        else:
            PodSandbox(self.pod_dir, ip="127.0.0.1", name=self.name).remove()
        self.sandbox = None
        if not self._ip_released:
            self._ip_released = True
            self.ctx.ipam.release(self.ip)
        self.ctx.index.forget_pod(self.namespace, self.name, self.uid)

    async def _force_cleanup(self) -> None:
        """Last resort when the loop ends abnormally: kill what runs, remove the rest."""
        for runner in self.runners:
            runner.stop_probes()
        self._kill_all()
        for runner in self.runners:
            if runner.container is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(runner.container.wait(), 10)
        self._teardown()
