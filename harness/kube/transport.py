"""One authenticated request to the API server, answered as the API's own JSON (a dict).

Built on the official client's ``ApiClient`` (its kubeconfig auth, TLS, exec-plugin token
refresh and proxies) but skipping its model classes: the harness reads objects as the API
returns them (camelCase dicts), which is what ``harness.model`` parses, what the reports
store, and what ``kubectl get -o json`` shows. Failures become ``ApiError`` (the server
answered with a ``Status``) or ``ClusterError`` (nothing usable came back), naming the
request, with the library's exception chained.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import urllib3
from kubernetes.client import ApiClient, CoreV1Api
from kubernetes.client.exceptions import ApiException

from harness.errors import ClusterError

DEFAULT_REQUEST_TIMEOUT = 30.0
Query = Iterable[tuple[str, str | int | bool]]


class ApiError(ClusterError):
    """The API server answered with an error ``Status`` (404 NotFound, 409 Conflict, ...)."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        reason: str,
        message: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.message = message
        # the Status's ``details`` (e.g. an eviction's PDB cause), {} when it had none
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{method} {path}: {status} {reason}: {message}")

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409


class Forbidden(ApiError):
    """403: the run's identity lacks a permission. The RBAC authorizer's Status message names
    it (``pods "zk-0" is forbidden: User "..." cannot create resource "pods/eviction" in API
    group "" in the namespace "zk-drills"``); ``permission`` is ``create pods/eviction``."""

    def __init__(self, method: str, path: str, reason: str, message: str,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(method, path, 403, reason, message, details)
        found = _CANNOT.search(message)
        group = found.group("group") if found else ""
        resource = found.group("resource") if found else path
        if group:
            resource = f"{resource}.{group}"
        self.verb = found.group("verb") if found else method.lower()
        self.resource = resource
        self.args = (self.one_line(),)

    @property
    def permission(self) -> str:
        return f"{self.verb} {self.resource}"

    def one_line(self) -> str:
        return (f"the cluster refused {self.permission}: {self.message} "
                "(docs/rbac.yaml lists every permission zkdrill needs)")


_CANNOT = re.compile(r'cannot (?P<verb>\w+) resource "(?P<resource>[^"]+)"'
                     r'(?: in API group "(?P<group>[^"]*)")?')


class Transport:
    """Requests through one ``ApiClient``; thread-safe (urllib3's pool is)."""

    def __init__(self, api_client: ApiClient, *, timeout: float = DEFAULT_REQUEST_TIMEOUT):
        self.api_client = api_client
        self.timeout = timeout

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: Any = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one request and return the decoded JSON body (``{}`` when empty)."""
        response = self.open(
            method, path, query=query, body=body, content_type=content_type, timeout=timeout
        )
        try:
            data = response.data
        finally:
            release(response)
        if not data:
            return {}
        try:
            decoded = json.loads(data)
        except ValueError as exc:
            raise ClusterError(f"{method} {path}: the API answered with non-JSON") from exc
        return decoded if isinstance(decoded, dict) else {"items": decoded}

    def open(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: Any = None,
        content_type: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        accept: str = "application/json",
    ) -> urllib3.BaseHTTPResponse:
        """Send one request and return the unread response (for watches and logs).

        Raises ``ApiError`` for a non-2xx answer. The caller reads it and hands it to
        ``release()`` (or uses ``stream()``), never to ``release_conn()`` directly.
        """
        headers: dict[str, str] = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        query_list = [(k, _query_value(v)) for k, v in query]
        serialized = self.api_client.param_serialize(
            method,
            path,
            query_params=query_list or None,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            rest = self.api_client.call_api(
                *serialized, _request_timeout=self.timeout if timeout is None else timeout
            )
        except ApiException as exc:  # TLS failures arrive as status 0
            where = f"{method} {self.server}{path}"
            raise ClusterError(f"{where}: {_first_line(exc.reason)}") from exc
        except urllib3.exceptions.HTTPError as exc:
            where = f"{method} {self.server}{path}"
            raise ClusterError(f"{where}: {describe_network_error(exc)}") from exc
        response = rest.response
        if not 200 <= response.status <= 299:
            raise _api_error(method, path, response)
        return response

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        timeout: float | tuple[float, float] | None = None,
        accept: str = "application/json",
    ) -> Iterator[urllib3.BaseHTTPResponse]:
        """``open()`` for a streamed body (watch, log) that the caller may leave early."""
        response = self.open(method, path, query=query, timeout=timeout, accept=accept)
        try:
            yield response
        finally:
            release(response)

    @contextmanager
    def stream_api(self) -> Iterator[CoreV1Api]:
        """A ``CoreV1Api`` on a private ``ApiClient``, for ``kubernetes.stream`` calls.

        ``stream``/``portforward`` swap the transport of the client they are given while
        they connect; on the shared client a concurrent watch or GET would go out as a
        WebSocket. The WebSocket they return does not use the client, so it is closed after.
        """
        with ApiClient(self.api_client.configuration) as private:
            yield CoreV1Api(private)

    def close(self) -> None:
        self.api_client.close()


def release(response: urllib3.BaseHTTPResponse) -> None:
    """Give a response's connection back to the pool, or close it if its body was not read
    to the end.

    urllib3's ``release_conn()`` pools the connection as it is. After a watch or log left
    mid-stream the socket still holds the rest of that chunked body (at least the CRLF
    after the last chunk read); once the response object is collected http.client thinks
    the connection idle, and the next request on it reads ``'\\r\\n'`` as its status line
    (``BadStatusLine``; urllib3 retries a GET, but not a PATCH or POST).
    """
    if not response.closed:  # http.client closes it once the last chunk has been read
        response.close()  # the connection is still attached: this closes its socket
    response.release_conn()


def stream_failure(exc: ApiException) -> str:
    """The first line of why a ``kubernetes.stream`` connection failed."""
    text = str(exc.reason or exc.body or exc).strip()
    return text.splitlines()[0] if text else f"status {exc.status}"


def describe_network_error(exc: BaseException) -> str:
    """The innermost useful reason of a urllib3 failure: "connection refused", a timeout..."""
    reason: BaseException | None = getattr(exc, "reason", None) or exc
    while isinstance(getattr(reason, "reason", None), BaseException):
        reason = reason.reason  # type: ignore[union-attr]
    text = str(reason)
    for known in ("Connection refused", "timed out", "Name or service not known", "certificate"):
        if known.lower() in text.lower():
            return known.lower() if known != "certificate" else _first_line(text)
    return _first_line(text) or type(exc).__name__


def _api_error(method: str, path: str, response: urllib3.BaseHTTPResponse) -> ApiError:
    data = response.data
    release(response)
    reason, message = response.reason or "", ""
    details: Mapping[str, Any] = {}
    try:
        status = json.loads(data) if data else {}
    except ValueError:
        status = {}
    if isinstance(status, Mapping):
        reason = str(status.get("reason") or reason)
        message = str(status.get("message") or "")
        if isinstance(status.get("details"), Mapping):
            details = status["details"]
    if not message:
        message = _first_line(data.decode("utf-8", "replace")) if data else "(no body)"
    if response.status == 403:
        return Forbidden(method, path, reason, message, details)
    return ApiError(method, path, response.status, reason, message, details)


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _first_line(text: Any) -> str:
    return str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
