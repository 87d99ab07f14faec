"""The aiohttp application: one catch-all route that authenticates, parses the path and
dispatches to the verb handlers, turning every failure into a `Status`.

A single route and no middleware keeps the per-request overhead low (GET of a pod is a
dictionary lookup and a write of stored bytes). An unexpected exception in a handler is
logged and answered with a 500 Status; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from typing import TYPE_CHECKING

from aiohttp import web

from localkube import resources as R
from localkube.apimachinery import errors as E
from localkube.apiserver import (
    admin,
    authorization,
    discovery,
    handlers,
    openapi,
    responses,
    reviews,
    routing,
    subresources,
    watch,
)
from localkube.apiserver.auth import AccountLookup, BearerAuth
from localkube.apiserver.context import ApiContext
from localkube.apiserver.impersonation import impersonate
from localkube.apiserver.negotiation import parse_bool
from localkube.rbac.user import UserInfo

if TYPE_CHECKING:
    from localkube.cluster import Cluster

log = logging.getLogger("localkube.apiserver")

CONTEXT = web.AppKey("context", ApiContext)
AUTH = web.AppKey("auth", BearerAuth)
MAX_BODY = 3 * 1024 * 1024  # kube-apiserver's request size limit


def build_app(ctx: ApiContext) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[CONTEXT] = ctx
    app[AUTH] = BearerAuth(ctx.token, ctx.tokens, _account_lookup(ctx))
    app.router.add_route("*", r"/{tail:[\s\S]*}", dispatch)  # any path, newlines too
    return app


async def dispatch(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    path = request.path
    try:
        user = request.app[AUTH].authenticate(path, request.headers.get("Authorization"))
        if "Impersonate-User" in request.headers or "Impersonate-Group" in request.headers:
            user = impersonate(ctx.store, user, request.headers,
                               request.headers.getall("Impersonate-Group", []))
        authorization.check(ctx.store, user, request.method, path, request.query)
        if path.startswith("/api"):
            target = routing.parse(path)
            if isinstance(target, routing.Discovery):
                _only_get(request)
                return responses.obj(discovery.document(target, ctx.server_address))
            return await _resource(ctx, request, target, user)
        if path.startswith(admin.PREFIX):
            return await admin.handle(ctx, request, path)
        return _other(ctx, request, path)
    except E.ApiError as err:
        return responses.status(err)
    except web.HTTPException as exc:  # raised by aiohttp itself, e.g. a body over the limit
        reason = exc.reason.replace(" ", "") if exc.status != 413 else "RequestEntityTooLarge"
        return responses.status(E.ApiError(exc.status, reason, exc.text or exc.reason))
    except asyncio.CancelledError:
        raise
    except ConnectionError:
        raise
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path_qs)
        return responses.status(E.internal(f"{type(exc).__name__}: {exc}"))


def _account_lookup(ctx: ApiContext) -> AccountLookup:
    """Service account tokens are valid only while their account (same uid) exists."""

    def uid_of(namespace: str, name: str) -> str | None:
        account = ctx.store.peek(R.SERVICEACCOUNTS.key, namespace, name)
        return None if account is None else str(account["metadata"].get("uid", ""))

    return uid_of


def _only_get(request: web.Request) -> None:
    if request.method not in ("GET", "HEAD"):
        raise routing.method_not_allowed()


async def _resource(
    ctx: ApiContext, request: web.Request, t: routing.Target, user: UserInfo
) -> web.StreamResponse:
    if t.subresource:
        return await subresources.handle(ctx, request, t)
    if t.resource.key in reviews.REVIEWS:
        return await reviews.handle(ctx, request, t, user)
    method = request.method
    if method == "GET":
        if t.watch_prefix or parse_bool(request.query, "watch"):
            return await watch.serve(ctx, request, t)
        if t.name is None:
            return handlers.list_(ctx, request, t)
        return handlers.get(ctx, request, t)
    if t.watch_prefix:
        raise routing.method_not_allowed()
    if t.name is None:
        if method == "POST":
            return await handlers.create(ctx, request, t)
        if method == "DELETE":
            return await handlers.delete_collection(ctx, request, t)
    else:
        if method == "PUT":
            return await handlers.update(ctx, request, t)
        if method == "PATCH":
            return await handlers.patch(ctx, request, t)
        if method == "DELETE":
            return await handlers.delete(ctx, request, t)
    raise routing.method_not_allowed()


def _other(ctx: ApiContext, request: web.Request, path: str) -> web.StreamResponse:
    """Health, version, OpenAPI and metrics."""
    _only_get(request)
    if path in ("/healthz", "/livez"):
        return web.Response(text="ok")
    if path == "/readyz":
        if ctx.ready:
            return web.Response(text="ok")
        return web.Response(status=500, text="[-]localkube-ready failed: reason withheld\n"
                                              "readyz check failed\n")
    if path.rstrip("/") == "/version":
        return responses.obj(discovery.version_info())
    if path == "/openapi/v3" or path.startswith("/openapi/v3/"):
        return responses.raw(openapi.document_for(path))
    if path == "/metrics":
        return web.Response(text=_metrics(ctx), content_type="text/plain")
    raise routing.not_found()


def _metrics(ctx: ApiContext) -> str:
    lines = ["# HELP apiserver_registered_watchers Number of currently registered watchers.",
             "# TYPE apiserver_registered_watchers gauge"]
    for res in R.RESOURCES:
        lines.append(
            f'apiserver_registered_watchers{{group="{res.group}",kind="{res.kind}",'
            f'version="{res.version}"}} {ctx.watchers.get(res.key, 0)}'
        )
    return "\n".join(lines) + "\n"


# -- lifecycle -------------------------------------------------------------------------------


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket up front, so "port in use" is reported before anything
    starts and port 0 resolves to a real port the kubeconfig can name."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class ApiServer:
    """The HTTP server of one cluster; answers /readyz with ok once `set_ready()` is called."""

    def __init__(
        self, cluster: Cluster, token: str, sock: socket.socket, tls: ssl.SSLContext | None
    ) -> None:
        host, port = sock.getsockname()[:2]
        self.host, self.port = host, port
        self.sock = sock
        self.tls = tls
        self.context = ApiContext(cluster, token, server_address=f"{host}:{port}")
        self.app = build_app(self.context)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(
            self.app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0
        )
        await self._runner.setup()
        await web.SockSite(self._runner, self.sock, ssl_context=self.tls).start()

    def set_ready(self, ready: bool = True) -> None:
        self.context.ready = ready

    async def stop(self) -> None:
        self.context.ready = False
        self.context.store.close_all_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
