"""The ZooKeeper servers of the ensemble, as a drill reaches them from this machine.

``Servers`` gives each pod a port-forward relay (kube layer) to its client port, so kazoo
and the four-letter words work from a laptop or CI runner; relays follow pods by name
across restarts. Where the image profile does not whitelist a word (``srvr``, ``mntr``)
but runs the AdminServer, ``Servers`` asks that instead, through a second relay per pod to
the profile's ``admin_port``; the answers are the same types either way. ``ZooKeeper`` is
the drill-facing view (the ``zk`` fixture): every read, write and check it makes is
recorded in the current step, and reads go through each server's own session after
``sync``, so "zk-2 has /hello" means zk-2 said so.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NodeExistsError, NoNodeError

from harness.errors import DrillFailure, ZkSessionError, ZooKeeperError
from harness.model.fourletter import Monitor, ServerStats
from harness.model.quorum import EnsembleHealth, assess_ensemble
from harness.steps import DrillRecorder
from harness.zk import adminserver, fourletter
from harness.zk.client import session, synced_get
from harness.zk.endpoint import Endpoint
from harness.zk.profile import ImageProfile
from harness.zk.sentinels import Sentinel, SentinelReport, verify_sentinels, write_sentinels


class RelayFactory(Protocol):
    def relay(self, pod: str, port: int) -> Any: ...


class Servers:
    """One relay per pod (and one more to the AdminServer when it is used), opened on first
    use and kept for the session. ``profile`` says which words the image whitelists."""

    def __init__(self, cluster: RelayFactory, pods: Sequence[str], profile: ImageProfile,
                 timeout: float):
        self.cluster = cluster
        self.pods = tuple(pods)
        self.profile = profile
        self.port = profile.client_port
        self.timeout = timeout
        self._relays: dict[str, Any] = {}
        self._admin_relays: dict[str, Any] = {}

    def endpoint(self, pod: str) -> Endpoint:
        if pod not in self._relays:
            self._relays[pod] = self.cluster.relay(pod, self.port)
        return Endpoint("127.0.0.1", int(self._relays[pod].port))

    def endpoints(self) -> dict[str, Endpoint]:
        return {pod: self.endpoint(pod) for pod in self.pods}

    def admin_endpoint(self, pod: str) -> Endpoint:
        """Where ``pod``'s AdminServer (``profile.admin_port``) is reachable from here."""
        if pod not in self._admin_relays:
            self._admin_relays[pod] = self.cluster.relay(pod, self.profile.admin_port)
        return Endpoint("127.0.0.1", int(self._admin_relays[pod].port))

    def via(self, word: str) -> str:
        """How ``word`` is asked, for the step's notes."""
        if self.profile.reads_through_admin_server(word):
            return f"AdminServer :{self.profile.admin_port}/commands/{word}"
        return f"four-letter word {word}"

    def modes(self, pods: Sequence[str] | None = None, *,
              timeout: float | None = None) -> dict[str, str]:
        """``srvr`` mode of every server (or of ``pods``; not-serving / unreachable), asked
        at once."""
        names = self.pods if pods is None else tuple(pods)
        wait = self.timeout if timeout is None else timeout
        if self.profile.reads_through_admin_server("srvr"):
            return adminserver.ensemble_modes(
                {p: self.admin_endpoint(p) for p in names}, timeout=wait)
        return fourletter.ensemble_modes({p: self.endpoint(p) for p in names}, timeout=wait)

    def health(self) -> EnsembleHealth:
        return assess_ensemble(self.modes(), len(self.pods))

    def srvr(self, pod: str) -> ServerStats:
        if self.profile.reads_through_admin_server("srvr"):
            return adminserver.srvr(self.admin_endpoint(pod), timeout=self.timeout)
        return fourletter.srvr(self.endpoint(pod), timeout=self.timeout)

    def mntr(self, pod: str, *, timeout: float | None = None) -> Monitor:
        """``mntr`` of ``pod``: the 4lw, or the AdminServer's ``monitor`` where the image does
        not whitelist ``mntr`` but runs the AdminServer (keys are ``zk_*`` either way)."""
        wait = self.timeout if timeout is None else timeout
        if self.profile.reads_through_admin_server("mntr"):
            return adminserver.mntr(self.admin_endpoint(pod), timeout=wait)
        return fourletter.mntr(self.endpoint(pod), timeout=wait)

    @contextmanager
    def session(self, pod: str) -> Iterator[KazooClient]:
        with session(self.endpoint(pod), timeout=self.timeout) as client:
            yield client

    def close(self) -> None:
        for relay in [*self._relays.values(), *self._admin_relays.values()]:
            relay.close()
        self._relays.clear()
        self._admin_relays.clear()


class ZooKeeper:
    """What a drill asks ZooKeeper, each answer recorded in the current step."""

    def __init__(
        self,
        servers: Servers,
        recorder: DrillRecorder,
        sentinels: Sequence[Sentinel],
        exec_in: Callable[[str, Sequence[str]], Any],
        zkcli: str,
        running: Callable[[str], bool] = lambda _pod: True,
    ) -> None:
        self.servers = servers
        self.recorder = recorder
        self.sentinels = tuple(sentinels)
        self._exec = exec_in
        self._zkcli = zkcli
        self._running = running

    @property
    def pods(self) -> tuple[str, ...]:
        return self.servers.pods

    def write(self, pod: str, path: str, value: str | bytes) -> None:
        """Create ``path`` (and parents) with ``value`` through ``pod``, or overwrite it."""
        data = value.encode() if isinstance(value, str) else value
        try:
            with self.servers.session(pod) as client:
                try:
                    client.create(path, data, makepath=True)
                except NodeExistsError:
                    client.set(path, data)
        except (KazooException, ZkSessionError) as exc:
            self.recorder.note(f"write {path} through {pod}", False, str(exc))
            raise DrillFailure(f"could not write {path} through {pod}: {exc}") from exc
        self.recorder.note(f"write {path} through {pod}", True, repr(data))

    def read(self, pod: str, path: str) -> bytes | None:
        """``path``'s data as ``pod`` serves it after ``sync``; None when it does not exist."""
        try:
            with self.servers.session(pod) as client:
                data: bytes | None = synced_get(client, path)
        except NoNodeError:
            data = None
        except (KazooException, ZkSessionError) as exc:
            self.recorder.note(f"read {path} on {pod}", False, str(exc))
            raise DrillFailure(f"could not read {path} on {pod}: {exc}") from exc
        self.recorder.note(f"read {path} on {pod}", data is not None, repr(data))
        return data

    def expect(self, pod: str, path: str, value: str | bytes, *, why: str = "") -> None:
        """Assert ``pod`` serves ``value`` at ``path`` (after sync); the failure says why."""
        wanted = value.encode() if isinstance(value, str) else value
        got = self.read(pod, path)
        if got != wanted:
            seen = "no such znode" if got is None else f"{got!r}"
            raise DrillFailure(f"{pod} serves {path} = {seen}, expected {wanted!r}{why}")

    def health(self) -> EnsembleHealth:
        health = self.servers.health()
        self.recorder.note("one leader (srvr on every server)", health.healthy, health.detail)
        return health

    def leader(self) -> str:
        health = self.health()
        if not health.healthy or health.leader is None:
            raise DrillFailure(f"the ensemble has no single leader: {health.detail}")
        return health.leader

    def mntr(self, pod: str) -> dict[str, int | float | str]:
        """``echo mntr | nc POD 2181`` (or the AdminServer's ``/commands/mntr`` where the image
        allows only that): every ``zk_*`` metric; empty when neither way answers."""
        how = self.servers.via("mntr")
        try:
            found = dict(self.servers.mntr(pod).values)
        except ZooKeeperError as exc:
            self.recorder.note(f"mntr on {pod} ({how})", False, str(exc))
            return {}
        self.recorder.note(f"mntr on {pod} ({how})", True, f"{len(found)} metrics")
        return found

    def write_sentinels(self, pod: str) -> None:
        write_sentinels(self.servers.endpoint(pod), self.sentinels, timeout=self.servers.timeout)
        self.recorder.note(f"write {len(self.sentinels)} sentinels through {pod}", True)

    def check_sentinels(self, *, allow_unreachable: Collection[str] = ()) -> SentinelReport:
        """Every sentinel on every server (each after ``sync``); ``DrillFailure`` if not.

        A server in ``allow_unreachable`` whose pod is not running is skipped at once (not
        asked, which would cost a connection timeout), and the step says so.
        """
        skipped = [p for p in allow_unreachable if p in self.pods and not self._running(p)]
        for pod in skipped:
            self.recorder.note(f"sentinels on {pod}", True, "not asked: its pod is not running")
        endpoints = {p: self.servers.endpoint(p) for p in self.pods if p not in skipped}
        report = verify_sentinels(endpoints, self.sentinels, timeout=self.servers.timeout)
        for check in report.checks:
            self.recorder.note(f"sentinels on {check.server}", check.ok, check.describe())
        report.assert_intact(allow_unreachable=allow_unreachable)
        return report

    def zkcli(self, pod: str, *args: str) -> Any:
        """``kubectl exec POD -- zkCli.sh ARGS`` (the tutorial's own client, as a cross-check)."""
        return self._exec(pod, [self._zkcli, *args])
