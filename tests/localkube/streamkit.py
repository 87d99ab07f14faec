"""A small real cluster for the streaming tests: real containers, a real API server.

No kubelet and no controllers: the test places containers itself with the runtime
(`localkube.runtime`), publishes them in a real `ContainerIndex` as the kubelet does, and
writes the Pod objects (with their status) into a real `Registry`. An aiohttp server on
a background event loop serves them over TLS with a bearer token, either through the
real API server app (`mount="apiserver"`: discovery, auth and routing included, which
kubectl needs) or with only the three streaming handlers mounted (`mount="handlers"`).
Tests drive it from the main thread with the official Python client and kubectl.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import secrets
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import websocket as ws_client
from aiohttp import web
from kubernetes import client as kclient

from localkube import certs, kubeconfig
from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.apiserver import streaming
from localkube.apiserver.app import build_app
from localkube.apiserver.context import ApiContext
from localkube.images import pull_image
from localkube.kubelet.index import ContainerHandle, ContainerIndex
from localkube.registry import Registry
from localkube.runtime import (
    Container,
    ContainerSpec,
    LoopbackAllocator,
    NativeTools,
    PodSandbox,
    ensure_native,
)
from localkube.store import Store
from tests.runtime.conftest import processes_in_namespaces, require_runtime

T = TypeVar("T")
NGINX = "registry.k8s.io/nginx-slim:0.8"


@dataclass
class MiniCluster:
    """What the handlers read from `cluster`: the registry, its store, the index."""

    store: Store = field(default_factory=Store)
    registry: Registry = field(init=False)
    containers: ContainerIndex = field(default_factory=ContainerIndex)

    def __post_init__(self) -> None:
        self.registry = Registry(self.store)
        self.registry.create(R.NAMESPACES, "", {"metadata": {"name": "default"}})


@dataclass
class PodState:
    """One test pod: its sandbox and, per container, the instances started so far."""

    name: str
    uid: str
    sandbox: PodSandbox
    instances: dict[str, list[Container]] = field(default_factory=dict)


class StreamingServer:
    def __init__(self, root: Path, image: Any, tools: NativeTools,
                 allocator: LoopbackAllocator, mount: str = "apiserver") -> None:
        self.root = root
        self.image = image
        self.tools = tools
        self.allocator = allocator
        self.mount = mount
        self.cluster = MiniCluster()
        self.token = secrets.token_hex(16)
        self.pods: dict[str, PodState] = {}
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._watchers: list[asyncio.Task[None]] = []
        self.port = 0
        self.certs = certs.ensure(root / "certs")
        self.kubeconfig = root / "kubeconfig"

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> StreamingServer:
        self._thread.start()
        self.call(self._serve())
        kubeconfig.write(self.kubeconfig, self.url, self.token, self.certs.ca_pem)
        return self

    def stop(self) -> None:
        try:
            self.call(self._shutdown())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            for state in self.pods.values():
                self.allocator.release(state.sandbox.ip)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        """A plain GET with the bearer token (for parameters the client cannot send)."""
        context = ssl.create_default_context(cafile=str(self.certs.ca_file))
        request = urllib.request.Request(self.url + path, headers={
            "Authorization": f"Bearer {self.token if token is None else token}"})
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def api(self) -> kclient.CoreV1Api:
        config = kclient.Configuration()
        config.host = self.url
        config.ssl_ca_cert = str(self.certs.ca_file)
        config.api_key = {"authorization": self.token}
        config.api_key_prefix = {"authorization": "Bearer"}
        return kclient.CoreV1Api(kclient.ApiClient(config))

    async def _serve(self) -> None:
        if self.mount == "apiserver":
            app = build_app(ApiContext(self.cluster, self.token))  # type: ignore[arg-type]
        else:
            app = web.Application()
            base = "/api/v1/namespaces/{ns}/pods/{name}/"
            for sub, handler in (("exec", streaming.exec_pod), ("log", streaming.log_pod),
                                 ("portforward", streaming.portforward_pod)):
                app.router.add_route("*", base + sub, _bind(self.cluster, handler))
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0,
                           ssl_context=self.certs.server_context())
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        for state in self.pods.values():
            for instances in state.instances.values():
                for container in instances:
                    if container.running:
                        await container.stop(0)
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    # -- pods ----------------------------------------------------------------------------
    async def add_pod(self, name: str, containers: Sequence[tuple[str, Sequence[str]]], *,
                      start: bool = True, node: str | None = "node-1") -> PodState:
        """Create the Pod object, its sandbox and (with `start`) its running containers."""
        spec: dict[str, Any] = {"containers": [
            {"name": c, "image": NGINX, "command": list(cmd)} for c, cmd in containers]}
        if node:
            spec["nodeName"] = node
        pod = self.cluster.registry.create(R.PODS, "default",
                                           {"metadata": {"name": name}, "spec": spec})
        sandbox = PodSandbox(self.root / "pods" / name, ip=self.allocator.allocate(),
                             name=name, hostname=name)
        sandbox.create()
        state = PodState(name, pod["metadata"]["uid"], sandbox,
                         {c: [] for c, _ in containers})
        self.pods[name] = state
        index = self.cluster.containers
        index.register_pod("default", name, state.uid, list(state.instances))
        for c, _ in containers:
            index.publish(ContainerHandle("default", name, state.uid, c, None, None, None,
                                          None, None, "ContainerCreating"))
        if start:
            for c, cmd in containers:
                await self.start_container(name, c, cmd)
        self.write_status(name)
        return state

    async def start_container(self, pod: str, name: str, command: Sequence[str]) -> Container:
        """Start the next instance of a container and publish it, as the kubelet does."""
        state = self.pods[pod]
        instances = state.instances[name]
        container = Container(ContainerSpec(name=name, image=self.image, command=list(command)),
                              state.sandbox, instance=len(instances), tools=self.tools)
        await container.start()
        previous = instances[-1].log_path if instances else None
        instances.append(container)
        handle = ContainerHandle("default", pod, state.uid, name, container, container.id,
                                 state.sandbox.ip, container.log_path, previous)
        self.cluster.containers.publish(handle)
        self._watchers.append(asyncio.create_task(self._on_exit(pod, container, handle)))
        self.write_status(pod)
        return container

    async def _on_exit(self, pod: str, container: Container, handle: ContainerHandle) -> None:
        await container.wait()
        handle.mark_stopped()
        self.write_status(pod)

    def namespaces(self) -> set[str]:
        """The PID and mount namespaces of the running containers (leftover check); those
        of exited ones are gone, and their numbers may already name someone else's."""
        found = set()
        for state in self.pods.values():
            for instances in state.instances.values():
                for container in instances:
                    for kind in ("pid", "mnt"):
                        with contextlib.suppress(OSError, TypeError):
                            if container.running:
                                found.add(os.readlink(f"/proc/{container.pid}/ns/{kind}"))
        return found

    async def wait_exited(self, pod: str, name: str) -> int:
        return await self.pods[pod].instances[name][-1].wait()

    def write_status(self, pod: str) -> None:
        """containerStatuses from the instances (state, lastState, containerID)."""
        state = self.pods[pod]
        statuses = []
        for name, instances in state.instances.items():
            cs: dict[str, Any] = {"name": name, "image": NGINX, "imageID": "", "ready": False,
                                  "restartCount": max(len(instances) - 1, 0), "lastState": {}}
            if not instances:
                cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
            else:
                current = instances[-1]
                cs["containerID"] = "localkube://" + current.id
                if current.running:
                    cs["state"] = {"running": {"startedAt": _ts(current.started_at)}}
                    cs["ready"] = True
                else:
                    cs["state"] = {"terminated": _terminated(current)}
                if len(instances) > 1:
                    cs["lastState"] = {"terminated": _terminated(instances[-2])}
            statuses.append(cs)
        phase = "Running" if any("running" in s["state"] for s in statuses) else "Pending"

        def apply(obj: dict) -> None:
            obj["status"] = {"phase": phase, "podIP": state.sandbox.ip,
                             "containerStatuses": statuses}

        self.cluster.registry.mutate(R.PODS, "default", pod, apply, subresource="status")


def _bind(cluster: MiniCluster, handler: Any) -> Any:
    async def route(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request, cluster, request.match_info["ns"],
                                 request.match_info["name"])
        except ApiError as err:  # the API server turns these into Status replies
            return web.Response(status=err.code, body=json.dumps(err.status()).encode(),
                                content_type="application/json")

    return route


def _ts(when: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when or time.time()))


def _terminated(container: Container) -> dict:
    return {"exitCode": container.exit_code if container.exit_code is not None else 0,
            "reason": container.reason or "Error", "containerID": "localkube://" + container.id,
            "startedAt": _ts(container.started_at), "finishedAt": _ts(container.finished_at)}


_octets = itertools.count(150 + os.getpid() % 50)


@contextlib.contextmanager
def serving(root: Path, mount: str = "apiserver") -> Iterator[StreamingServer]:
    """A started server (skips without root); afterwards no container process is left."""
    require_runtime()
    cache = root / "cache"
    tools = ensure_native(cache)
    image = pull_image(NGINX, cache)
    allocator = LoopbackAllocator(next(_octets) % 250 + 1)
    server = StreamingServer(root, image, tools, allocator, mount).start()
    try:
        yield server
    finally:
        namespaces, now = server.namespaces(), _ticks_since_boot()
        server.stop()
        # Only processes older than the stop can be ours: a namespace's number is reused
        # once it is gone, possibly by a concurrent test's new container.
        left = {pid: _cmdline(pid) for pid in processes_in_namespaces(namespaces)
                if _start_ticks(pid) <= now}
        assert not left, f"processes left in the test's containers: {left}"


def _ticks_since_boot() -> int:
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))


def _start_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 1 << 62  # gone meanwhile: not a leftover
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "?"


def websocket(server: StreamingServer, path: str,
              protocols: Sequence[str] | None = None) -> ws_client.WebSocket:
    """A raw WebSocket to the server (for what the official client cannot ask for)."""
    sock = ws_client.WebSocket(sslopt={"ca_certs": str(server.certs.ca_file)})
    sock.connect(f"wss://127.0.0.1:{server.port}{path}", subprotocols=protocols,
                 header=[f"Authorization: Bearer {server.token}"], timeout=30)
    return sock


def read_until_close(sock: ws_client.WebSocket) -> tuple[list[tuple[int, bytes]], int | None]:
    """Every data message (opcode, payload) until the server closes, and the close code."""
    messages: list[tuple[int, bytes]] = []
    while True:
        opcode, frame = sock.recv_data_frame(True)
        if opcode == ws_client.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
            return messages, code
        if opcode in (ws_client.ABNF.OPCODE_TEXT, ws_client.ABNF.OPCODE_BINARY):
            messages.append((opcode, bytes(frame.data)))


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll a condition (a port that starts listening, a line that shows up)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)
    return value


def listening(ip: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((ip, port), timeout=1):
        return True
    return False
