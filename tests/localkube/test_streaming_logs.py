"""pods/log with the official Python client, reading the CRI logs of real containers;
only the streaming handlers are mounted (kubectl logs: test_streaming_kubectl)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import watch
from kubernetes.client.rest import ApiException

from localkube.runtime import run_exec
from tests.localkube import streamkit
from tests.localkube.streamkit import StreamingServer, wait_until

pytestmark = pytest.mark.slow
SLEEP = "exec sleep 100000"
FOLLOWED = ["sh", "-c", "mkfifo /tmp/a /tmp/b; echo first; read l < /tmp/a; echo \"$l\"; "
                        "read l < /tmp/b; echo done"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamingServer]:
    with streamkit.serving(tmp_path_factory.mktemp("logs"), mount="handlers") as srv:
        srv.call(srv.add_pod("chatty", [("main", ["sh", "-c", f"echo one; echo two; echo three; "
                                                             f"echo four; {SLEEP}"])]))
        srv.call(srv.add_pod("restarted", [("main", ["sh", "-c", "echo first run; exit 1"])]))
        srv.call(srv.wait_exited("restarted", "main"))
        srv.call(srv.start_container("restarted", "main",
                                     ["sh", "-c", f"echo second run >&2; {SLEEP}"]))
        srv.call(srv.add_pod("duo", [("a", ["true"]), ("b", ["true"])], start=False))
        srv.call(srv.add_pod("waiting", [("main", ["true"])], start=False))
        srv.call(srv.add_pod("unscheduled", [("main", ["true"])], start=False, node=None))
        api = srv.api()
        wait_until(lambda: api.read_namespaced_pod_log("chatty", "default").count("\n") == 4,
                   "the output of chatty")
        wait_until(lambda: api.read_namespaced_pod_log("restarted", "default") != "",
                   "the output of restarted")
        yield srv


def _refusal(server: StreamingServer, pod: str, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ApiException) as info:
        server.api().read_namespaced_pod_log(pod, "default", **kwargs)
    return info.value.status, json.loads(str(info.value.body))["message"]


def test_whole_log_tail_and_limit(server: StreamingServer) -> None:
    api = server.api()
    assert api.read_namespaced_pod_log("chatty", "default") == "one\ntwo\nthree\nfour\n"
    assert api.read_namespaced_pod_log("chatty", "default", tail_lines=2) == "three\nfour\n"
    assert api.read_namespaced_pod_log("chatty", "default", tail_lines=0) == ""
    assert api.read_namespaced_pod_log("chatty", "default", limit_bytes=6) == "one\ntw"
    assert api.read_namespaced_pod_log("chatty", "default", since_seconds=3600).count("\n") == 4


def test_timestamps_are_rfc3339_with_nine_digits(server: StreamingServer) -> None:
    text = server.api().read_namespaced_pod_log("chatty", "default", timestamps=True)
    lines = text.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["one", "two", "three", "four"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z .+", line)
               for line in lines)


def test_since_time(server: StreamingServer) -> None:
    base = "/api/v1/namespaces/default/pods/chatty/log?sinceTime="
    assert server.get(base + "2000-01-01T00:00:00Z") == (200, b"one\ntwo\nthree\nfour\n")
    assert server.get(base + "2999-01-01T00:00:00Z") == (200, b"")


def test_current_and_previous_instance(server: StreamingServer) -> None:
    api = server.api()
    assert api.read_namespaced_pod_log("restarted", "default") == "second run\n"  # stderr too
    assert api.read_namespaced_pod_log("restarted", "default", previous=True) == "first run\n"
    followed = list(watch.Watch().stream(api.read_namespaced_pod_log, "restarted", "default",
                                         previous=True))
    assert followed == ["first run"]  # a finished instance: follow ends after its content


def test_follow_streams_until_the_instance_ends(server: StreamingServer) -> None:
    state = server.call(server.add_pod("followed", [("main", FOLLOWED)]))
    container = state.instances["main"][0]
    lines = watch.Watch().stream(server.api().read_namespaced_pod_log, "followed", "default")
    assert next(lines) == "first"
    server.call(run_exec(container, ["sh", "-c", "echo second > /tmp/a"], timeout=10))
    assert next(lines) == "second"
    server.call(run_exec(container, ["sh", "-c", "echo x > /tmp/b"], timeout=10))
    assert list(lines) == ["done"]


def test_kubelet_refusals_are_400(server: StreamingServer) -> None:
    assert _refusal(server, "chatty", previous=True) == (
        400, 'previous terminated container "main" in pod "chatty" not found')
    assert _refusal(server, "waiting") == (
        400, 'container "main" in pod "waiting" is waiting to start: ContainerCreating')
    assert _refusal(server, "duo") == (
        400, "a container name must be specified for pod duo, choose one of: [a b]")
    assert _refusal(server, "chatty", container="nope") == (
        400, "container nope is not valid for pod chatty")


def test_missing_pod_invalid_options_and_unscheduled_pod(server: StreamingServer) -> None:
    assert _refusal(server, "missing") == (404, 'pods "missing" not found')
    assert _refusal(server, "chatty", tail_lines=-1) == (
        422, 'PodLogOptions "chatty" is invalid: tailLines: Invalid value: -1: must be greater '
             "than or equal to 0")
    assert server.api().read_namespaced_pod_log("unscheduled", "default") == ""
