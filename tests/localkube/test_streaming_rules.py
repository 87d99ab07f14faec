"""The streaming handlers' rules that need no container: framing, negotiation, parameter
conversion, container defaulting, which log instance is read, start-failure detection."""

from __future__ import annotations

from pathlib import Path

import pytest
from multidict import MultiDict

from localkube.apimachinery.errors import ApiError
from localkube.apiserver import podlogs, streaming, wsproto
from localkube.apiserver.execstream import _ResizeDecoder, _StartFailure
from localkube.kubelet.index import ContainerHandle

V5, V4 = wsproto.KNOWN[wsproto.V5], wsproto.KNOWN[wsproto.V4]


def test_negotiation_prefers_v5_then_follows_the_client_order() -> None:
    choose, exec_ = wsproto.choose, wsproto.EXEC_PROTOCOLS
    assert choose(["v4.channel.k8s.io", "v5.channel.k8s.io"], exec_, wsproto.V5) is V5
    assert choose(["base64.channel.k8s.io", "v4.channel.k8s.io"], exec_, wsproto.V5) \
        is wsproto.KNOWN["base64.channel.k8s.io"]
    assert choose([], exec_, wsproto.V5) is wsproto.KNOWN[""]  # no header: binary, v1 rules
    assert choose(["v9"], exec_, wsproto.V5) is None
    pf = wsproto.PORTFORWARD_PROTOCOLS
    assert choose(["v5.channel.k8s.io", "v4.channel.k8s.io"], pf) is V4
    assert choose(["SPDY/3.1+portforward.k8s.io"], pf) is None


def test_decoding_client_frames() -> None:
    decode = wsproto.decode
    assert decode(V5, b"\x00hi") == wsproto.Frame(0, b"hi")
    assert decode(V5, b"\xff\x00") == wsproto.Frame(0, closed=True)
    assert decode(V5, b"\xff\x00\x01") is None  # malformed close
    assert decode(V4, b"\xff\x00") == wsproto.Frame(255, b"\x00")  # no close in v4
    assert decode(V5, b"") is None
    b64 = wsproto.KNOWN[wsproto.V4_BASE64]
    assert decode(b64, b"0aGk=") == wsproto.Frame(0, b"hi")
    assert decode(b64, b"0not base64!") is None


def test_start_failure_is_recognised_only_as_the_whole_error_output() -> None:
    failed = _StartFailure("foo")
    assert failed.error_output(b'exec: "foo": exec') == b""  # held: could be runc's line
    assert failed.error_output(b"utable file not found in $PATH\n") == b""
    message = failed.message(127)
    assert message is not None and message.endswith(
        'unable to start container process: exec: "foo": executable file not found in $PATH: '
        "unknown")
    assert failed.message(1) is None

    ordinary = _StartFailure("foo")
    assert ordinary.error_output(b"e") == b""
    assert ordinary.error_output(b"rror: bad\n") == b"error: bad\n"  # released at once
    assert ordinary.message(127) is None

    spoke = _StartFailure("foo")
    assert spoke.error_output(b'exec: "foo": x\n') == b""
    spoke.other_output()  # stdout output: the command did start
    assert spoke.message(127) is None and spoke.release() == b'exec: "foo": x\n'


def test_resize_json_may_be_split_or_batched() -> None:
    decoder = _ResizeDecoder()
    assert decoder.feed(b'{"Width":80,') == []
    assert decoder.feed(b'"Height":24}{"Width":100,"Height":30}') == [(80, 24), (100, 30)]


def test_query_conversions() -> None:
    query = MultiDict([("stdin", "True"), ("stdout", "false"), ("stderr", "0"), ("tty", ""),
                       ("command", "sh"), ("command", "-c")])
    opts = streaming.exec_options(query)
    assert (opts.stdin, opts.stdout, opts.stderr, opts.tty) == (True, False, False, True)
    assert opts.command == ("sh", "-c")
    assert streaming.parse_ports(MultiDict([("ports", "2181,2888"), ("ports", "3888")])) \
        == [2181, 2888, 3888]
    with pytest.raises(ApiError) as info:
        streaming.parse_ports(MultiDict([("ports", "0")]))
    assert info.value.code == 400


def test_container_defaulting_follows_the_apiserver() -> None:
    pod = {"metadata": {"name": "p", "annotations": {
               "kubectl.kubernetes.io/default-container": "b"}},
           "spec": {"containers": [{"name": "a"}, {"name": "b"}],
                    "initContainers": [{"name": "init"}]}}
    with pytest.raises(ApiError) as info:
        streaming.resolve_container(pod, "")  # the annotation is kubectl's business
    assert info.value.message == ("a container name must be specified for pod p, choose one "
                                  "of: [a b] or one of the init containers: [init]")
    assert streaming.resolve_container(pod, "init") == "init"
    single = {"metadata": {"name": "q"}, "spec": {"containers": [{"name": "zk"}]}}
    assert streaming.resolve_container(single, "") == "zk"


def test_log_options_validation() -> None:
    def parse(**values: str) -> podlogs.LogQuery:
        query = MultiDict(values)
        return podlogs.parse_query(query, "zk-0", lambda k: streaming.flag(query, k))

    with pytest.raises(ApiError) as info:
        parse(sinceSeconds="5", sinceTime="2024-01-01T00:00:00Z", limitBytes="0")
    assert info.value.code == 422
    assert info.value.message.startswith(
        'PodLogOptions "zk-0" is invalid: [limitBytes: Invalid value: 0: must be greater than '
        "0, ")
    assert info.value.message.endswith(
        "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified]")
    with pytest.raises(ApiError) as info:
        parse(tailLines="ten")
    assert info.value.code == 400
    assert parse(follow="True", tailLines="3").follow is True


def _handle(tmp_path: Path, running: bool) -> ContainerHandle:
    handle = ContainerHandle("default", "zk-0", "uid", "zk", object(), "c2", "127.1.0.2",
                             tmp_path / "2.log", tmp_path / "1.log")
    if not running:
        handle.mark_stopped()
    return handle


def _pod(state: dict, last: dict | None = None) -> dict:
    cs = {"name": "zk", "state": state, "lastState": {"terminated": last} if last else {}}
    return {"metadata": {"name": "zk-0"}, "status": {"containerStatuses": [cs]}}


def test_log_instance_choice(tmp_path: Path) -> None:
    running = _handle(tmp_path, running=True)
    pod = _pod({"running": {}}, last={"containerID": "localkube://c1"})
    pod["status"]["containerStatuses"][0]["containerID"] = "localkube://c2"
    assert podlogs.choose_instance(pod, "zk", running, False).path == tmp_path / "2.log"
    assert podlogs.choose_instance(pod, "zk", running, True).path == tmp_path / "1.log"
    assert podlogs.choose_instance(pod, "zk", running, False).live()

    # CrashLoopBackOff: both the current and the previous log are the crashed instance.
    crashed = _handle(tmp_path, running=False)
    backoff = _pod({"waiting": {"reason": "CrashLoopBackOff"}},
                   last={"containerID": "localkube://c2"})
    for previous in (False, True):
        chosen = podlogs.choose_instance(backoff, "zk", crashed, previous)
        assert chosen.path == tmp_path / "2.log" and not chosen.live()

    pulling = _pod({"waiting": {"reason": "ImagePullBackOff"}})
    with pytest.raises(ApiError) as info:
        podlogs.choose_instance(pulling, "zk", None, False)
    assert info.value.message == ('container "zk" in pod "zk-0" is waiting to start: trying '
                                  "and failing to pull image")
