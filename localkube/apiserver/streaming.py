"""The streaming subresources of pods: `exec`, `log` and `portforward`.

The API server calls these after authentication. Each handler first does what
kube-apiserver does itself (read the pod: 404; pick and check the container: 400; a pod
with no node: 400), then what the kubelet would do (find the running container: its
refusals are plain text with the kubelet's status code), then upgrades or streams.

Where the two differ on the wire we follow the real split:

- exec offering `v5.channel.k8s.io` (kubectl ≥ 1.30, Python client ≥ 32) is upgraded by
  the apiserver's stream translator *before* it contacts the kubelet, so a kubelet
  refusal arrives after the upgrade as an InternalError Status on channel 3:
  `Internal error occurred: unable to upgrade connection: container not found ("zk")`;
- older subprotocols are proxied to the kubelet, whose refusal is the HTTP reply;
- SPDY (kubectl's fallback when a WebSocket upgrade fails, or
  `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`) is not implemented: such requests get the
  same pre-upgrade errors, and otherwise a plain-text refusal that kubectl prints as
  `error: unable to upgrade connection: <text>`.

The default container is the only container; a multi-container pod needs `container`
(the `kubectl.kubernetes.io/default-container` annotation is read by kubectl, not by the
apiserver, so API clients must name the container as on a real cluster).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from localkube import resources as R
from localkube.apimachinery import errors as E
from localkube.apiserver import execstream, podlogs, portforward
from localkube.apiserver.execstream import ExecOptions
from localkube.apiserver.wsproto import (
    ERROR,
    EXEC_PROTOCOLS,
    PORTFORWARD_PROTOCOLS,
    STDERR,
    STDOUT,
    V5,
    ChannelSocket,
    Subprotocol,
    choose,
    is_websocket,
    offered_protocols,
)

log = logging.getLogger("localkube.apiserver.streaming")

SPDY_REFUSAL = (
    "localkube serves pods/{sub} over WebSocket only and does not implement SPDY; "
    "{hint}"
)
EXEC_HINT = "use kubectl >= 1.30 without KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, or a " \
    "WebSocket client"
PORTFORWARD_HINT = "kubectl port-forward is not supported; use the Kubernetes Python " \
    "client's kubernetes.stream.portforward (subprotocol v4.channel.k8s.io)"


class KubeletRefusal(Exception):
    """What the kubelet answers instead of upgrading: a status code and plain text."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        return web.Response(status=self.code, text=self.message, content_type="text/plain")


# -- exec ----------------------------------------------------------------------------------


async def exec_pod(
    request: web.Request, cluster: Any, namespace: str, name: str
) -> web.StreamResponse:
    """`GET|POST .../pods/{name}/exec`."""
    pod = get_pod(cluster, namespace, name)
    container = resolve_container(pod, request.query.get("container", ""))
    require_host(pod)
    opts = exec_options(request.query)
    proto = _negotiate(request, EXEC_PROTOCOLS, V5, EXEC_HINT, "exec")
    try:
        validate_exec(opts)
        handle = running_handle(cluster, pod, container)
    except KubeletRefusal as refusal:
        if proto is None or proto.name != V5:
            return refusal.response()
        sock = await _accept(request, proto, opts)
        await execstream.finish(sock, execstream.internal_status(
            f"unable to upgrade connection: {refusal.message}"))
        return sock.ws
    if proto is None:
        return _spdy_refusal("exec", EXEC_HINT)
    sock = await _accept(request, proto, opts)
    try:
        await execstream.run(sock, handle.container, container, opts)
    except Exception as exc:  # after the upgrade only the status channel can tell
        log.exception("exec in %s/%s failed", namespace, name)
        await execstream.finish(sock, execstream.internal_status(f"{type(exc).__name__}: {exc}"))
    return sock.ws


def exec_options(query: MultiMapping[str]) -> ExecOptions:
    """PodExecOptions as the apiserver converts them (`tty` drops stderr at the kubelet)."""
    tty = flag(query, "tty")
    return ExecOptions(
        command=tuple(query.getall("command", [])),
        stdin=flag(query, "stdin"),
        stdout=flag(query, "stdout"),
        stderr=flag(query, "stderr") and not tty,
        tty=tty,
    )


def validate_exec(opts: ExecOptions) -> None:
    if not (opts.stdin or opts.stdout or opts.stderr):
        raise KubeletRefusal(400, "you must specify at least 1 of stdin, stdout, stderr")
    if not opts.command:
        raise KubeletRefusal(400, "you must specify at least one command for the container")


async def _accept(request: web.Request, proto: Subprotocol, opts: ExecOptions) -> ChannelSocket:
    """Upgrade, then the empty message on the lowest writable channel (session is up)."""
    sock = await ChannelSocket.accept(request, proto)
    await sock.send(STDOUT if opts.stdout else STDERR if opts.stderr else ERROR)
    return sock


# -- log -----------------------------------------------------------------------------------


async def log_pod(
    request: web.Request, cluster: Any, namespace: str, name: str
) -> web.StreamResponse:
    """`GET .../pods/{name}/log`."""
    query = podlogs.parse_query(request.query, name, lambda key: flag(request.query, key))
    pod = get_pod(cluster, namespace, name)
    container = resolve_container(pod, request.query.get("container", ""))
    if not (pod.get("spec") or {}).get("nodeName"):
        return await podlogs.empty(request)
    handle = find_handle(cluster, pod, container)
    instance = podlogs.choose_instance(pod, container, handle, query.previous)
    return await podlogs.serve(request, instance, query)


# -- portforward ---------------------------------------------------------------------------


async def portforward_pod(
    request: web.Request, cluster: Any, namespace: str, name: str
) -> web.StreamResponse:
    """`GET|POST .../pods/{name}/portforward?ports=2181[,...]`."""
    pod = get_pod(cluster, namespace, name)
    require_host(pod)
    proto = _negotiate(request, PORTFORWARD_PROTOCOLS, None, PORTFORWARD_HINT, "portforward")
    if proto is None:
        return _spdy_refusal("portforward", PORTFORWARD_HINT)
    ports = parse_ports(request.query)
    try:
        pod_ip = sandbox_ip(cluster, pod)
    except KubeletRefusal as refusal:
        return refusal.response()
    sock = await ChannelSocket.accept(request, proto)
    try:
        await portforward.run(sock, pod_ip, ports, pod["metadata"].get("uid", name))
    except Exception:  # the connection is upgraded: nothing left to answer but a close
        log.exception("port-forward to %s/%s failed", namespace, name)
        await sock.close()
    return sock.ws


def parse_ports(query: MultiMapping[str]) -> list[int]:
    """`ports` values, comma lists allowed (the apiserver's []int32 conversion)."""
    ports: list[int] = []
    for value in query.getall("ports", []):
        for item in value.split(","):
            try:
                port = int(item, 10)
            except ValueError:
                raise E.bad_request(f'unable to parse "{value}" as a port: strconv.ParseUint: '
                                    f'parsing "{item}": invalid syntax') from None
            if not 0 < port < 65536:
                raise E.bad_request(f'port "{value}" must be > 0 and < 65536')
            ports.append(port)
    if not ports:
        raise E.bad_request('query parameter "port" is required')
    return ports


def sandbox_ip(cluster: Any, pod: dict) -> str:
    """The running pod's address; the kubelet's refusal when it has no sandbox."""
    meta = pod["metadata"]
    index = getattr(cluster, "containers", None)
    if index is not None:
        for container in index.container_names(meta["namespace"], meta["name"]):
            handle = find_handle(cluster, pod, container)
            if handle is not None and handle.pod_ip:
                return str(handle.pod_ip)
    raise KubeletRefusal(500, f'pod not found ("{meta["name"]}_{meta["namespace"]}")')


# -- shared --------------------------------------------------------------------------------


def get_pod(cluster: Any, namespace: str, name: str) -> dict:
    pod = cluster.registry.try_get(R.PODS, namespace, name)
    if pod is None:
        raise E.not_found("pods", name)
    return pod


def resolve_container(pod: dict, requested: str) -> str:
    """The apiserver's container defaulting and check (`streamLocation`/`LogLocation`)."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in spec.get("containers") or []]
    inits = [c["name"] for c in spec.get("initContainers") or []]
    ephemeral = [c["name"] for c in spec.get("ephemeralContainers") or []]
    if requested:
        if requested not in (*containers, *inits, *ephemeral):
            raise E.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    if len(containers) == 1:
        return containers[0]
    if not containers:
        raise E.bad_request(f"a container name must be specified for pod {name}")
    message = (f"a container name must be specified for pod {name}, "
               f"choose one of: [{' '.join(containers)}]")
    if inits:
        message += f" or one of the init containers: [{' '.join(inits)}]"
    raise E.bad_request(message)


def require_host(pod: dict) -> None:
    if not (pod.get("spec") or {}).get("nodeName"):
        raise E.bad_request(f"pod {pod['metadata']['name']} does not have a host assigned")


def find_handle(cluster: Any, pod: dict, container: str) -> Any:
    """The kubelets' handle for this pod's container (not an older pod of that name)."""
    index = getattr(cluster, "containers", None)
    if index is None:
        return None
    meta = pod["metadata"]
    handle = index.lookup(meta["namespace"], meta["name"], container)
    if handle is None or (meta.get("uid") and handle.pod_uid and handle.pod_uid != meta["uid"]):
        return None
    return handle


def running_handle(cluster: Any, pod: dict, container: str) -> Any:
    handle = find_handle(cluster, pod, container)
    if handle is None or not handle.running:
        raise KubeletRefusal(500, f'container not found ("{container}")')
    return handle


def flag(query: MultiMapping[str], name: str) -> bool:
    """The apiserver's []string → bool conversion: absent, "0" or "false" is false."""
    values = query.getall(name, [])
    if not values:
        return False
    return not (values[0] == "0" or values[0].lower() == "false")


def _negotiate(
    request: web.Request, supported: tuple[str, ...], preferred: str | None, hint: str, sub: str
) -> Subprotocol | None:
    """The WebSocket subprotocol, None for a non-WebSocket (SPDY) request."""
    if not is_websocket(request):
        if not request.headers.get("Upgrade"):
            raise E.bad_request("Upgrade request required")
        return None
    offered = offered_protocols(request)
    proto = choose(offered, supported, preferred)
    if proto is None:
        raise E.ApiError(403, "Forbidden", "requested protocol(s) are not supported: "
                         f"[{' '.join(offered)}]; supports [{' '.join(p for p in supported if p)}]"
                         f"; {SPDY_REFUSAL.format(sub=sub, hint=hint)}")
    return proto


def _spdy_refusal(sub: str, hint: str) -> web.Response:
    """Plain text, so kubectl's SPDY client prints `unable to upgrade connection: <text>`."""
    return KubeletRefusal(400, SPDY_REFUSAL.format(sub=sub, hint=hint)).response()
