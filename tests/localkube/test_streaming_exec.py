"""pods/exec over WebSocket with real containers and only the streaming handlers mounted.

Clients: the official Python client (`kubernetes.stream.stream`) and raw websocket-client
for the subprotocols the official clients no longer offer (kubectl: test_streaming_kubectl).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websocket as ws_client
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from tests.localkube import streamkit
from tests.localkube.streamkit import StreamingServer, read_until_close, websocket

pytestmark = pytest.mark.slow
SLEEPER = ["sh", "-c", "echo started; exec sleep 100000"]
EXIT3 = ["sh", "-c", "echo out; echo err >&2; exit 3"]
EXIT3_QUERY = "command=sh&command=-c&command=echo+out%3B+echo+err+%3E%262%3B+exit+3"
EXIT3_MESSAGE = ("command terminated with non-zero exit code: error executing command "
                 "[sh -c echo out; echo err >&2; exit 3], exit code 3")
EXEC = "/api/v1/namespaces/default/pods/{pod}/exec?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamingServer]:
    with streamkit.serving(tmp_path_factory.mktemp("exec"), mount="handlers") as srv:
        srv.call(srv.add_pod("shell", [("main", SLEEPER)]))
        srv.call(srv.add_pod("duo", [("web", SLEEPER), ("side", SLEEPER)]))
        srv.call(srv.add_pod("done", [("main", ["sh", "-c", "echo bye"])]))
        srv.call(srv.wait_exited("done", "main"))
        srv.call(srv.add_pod("waiting", [("main", SLEEPER)], start=False))
        yield srv


def _exec(server: StreamingServer, pod: str, command: list[str], **kwargs: Any) -> Any:
    options: dict[str, Any] = {"stdin": False, "stdout": True, "stderr": True, "tty": False}
    options.update(kwargs)
    return stream(server.api().connect_get_namespaced_pod_exec, pod, "default",
                  command=command, _preload_content=False, **options)


# -- the official Python client ------------------------------------------------------------


def test_python_client_gets_stdout_stderr_and_the_exit_code(server: StreamingServer) -> None:
    resp = _exec(server, "shell", EXIT3)
    resp.run_forever(timeout=30)
    assert resp.subprotocol == "v5.channel.k8s.io"  # offered "v5,v4": the translator's
    assert resp.read_stdout() == "out\n"
    assert resp.read_stderr() == "err\n"
    status = json.loads(resp.read_channel(3))
    assert status == {
        "metadata": {}, "status": "Failure", "message": EXIT3_MESSAGE,
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    assert int(status["details"]["causes"][0]["message"]) == 3  # what `returncode` reads


def test_python_client_returncode_is_zero_on_success(server: StreamingServer) -> None:
    resp = _exec(server, "shell", ["true"])
    resp.run_forever(timeout=30)
    assert resp.returncode == 0


def test_python_client_preloaded_call_returns_the_output(server: StreamingServer) -> None:
    out = stream(server.api().connect_get_namespaced_pod_exec, "shell", "default",
                 command=["sh", "-c", "echo hello"], stdin=False, stdout=True, stderr=True,
                 tty=False)
    assert out == "hello\n"


def test_stdin_in_text_and_binary_frames_and_v5_close(server: StreamingServer) -> None:
    resp = _exec(server, "shell", ["cat"], stdin=True)
    resp.write_stdin("from a text frame\n")  # str: TEXT opcode, channel as first char
    resp.write_stdin(b"from a binary frame\n")
    resp.close_channel(0)  # [255, 0]: EOF for cat
    resp.run_forever(timeout=30)
    assert resp.read_stdout() == "from a text frame\nfrom a binary frame\n"
    assert resp.returncode == 0


def test_tty_resize_reaches_the_terminal(server: StreamingServer) -> None:
    resp = _exec(server, "shell", ["sh", "-c", "read go; test -t 0 && echo tty; stty size"],
                 stdin=True, tty=True, stderr=False)
    resp.write_channel(4, json.dumps({"Width": 101, "Height": 33}))
    resp.write_stdin("go\n")  # handled after the resize: the frames are processed in order
    resp.run_forever(timeout=30)
    out = resp.read_stdout()
    assert "tty\r\n33 101\r\n" in out
    assert resp.returncode == 0


def test_missing_executable_is_containerds_internal_error(server: StreamingServer) -> None:
    resp = _exec(server, "shell", ["no-such-command"])
    resp.run_forever(timeout=30)
    assert resp.read_stderr() == ""  # runc's message goes to the status, not to stderr
    status = json.loads(resp.read_channel(3))
    assert status["reason"] == "InternalError" and status["code"] == 500
    assert status["message"].startswith(
        "Internal error occurred: error executing command in container: failed to exec in "
        'container: failed to start exec "')
    assert status["message"].endswith(
        'OCI runtime exec failed: exec failed: unable to start container process: '
        'exec: "no-such-command": executable file not found in $PATH: unknown')


def test_a_command_that_exits_127_itself_keeps_its_exit_code(server: StreamingServer) -> None:
    resp = _exec(server, "shell", ["sh", "-c", "no-such-command"])
    resp.run_forever(timeout=30)
    assert "not found" in resp.read_stderr()
    assert resp.returncode == 127


def test_exec_into_a_stopped_container_fails_after_the_upgrade(server: StreamingServer) -> None:
    for pod in ("done", "waiting"):
        resp = _exec(server, pod, ["true"])
        resp.run_forever(timeout=30)
        status = json.loads(resp.read_channel(3))
        assert status["message"] == ('Internal error occurred: unable to upgrade connection: '
                                     'container not found ("main")'), pod
        assert status["code"] == 500


def test_pre_upgrade_errors_are_status_objects(server: StreamingServer) -> None:
    cases = [
        ("missing", "", 404, 'pods "missing" not found'),
        ("duo", "", 400, "a container name must be specified for pod duo, choose one of: "
                         "[web side]"),
        ("duo", "&container=nope", 400, "container nope is not valid for pod duo"),
    ]
    for pod, extra, code, message in cases:
        with pytest.raises(ws_client.WebSocketBadStatusException) as info:
            websocket(server, EXEC.format(pod=pod) + "command=true&stdout=1" + extra,
                      ["v5.channel.k8s.io"])
        assert info.value.status_code == code
        body = json.loads(info.value.resp_body or b"")
        assert (body["kind"], body["message"], body["code"]) == ("Status", message, code)


def test_python_client_surfaces_a_handshake_error(server: StreamingServer) -> None:
    with pytest.raises(ApiException) as info:
        _exec(server, "missing", ["true"])
    assert "404" in str(info.value)


# -- the older subprotocols (raw websocket-client) ------------------------------------------


def test_v4_binary_protocol(server: StreamingServer) -> None:
    sock = websocket(server, EXEC.format(pod="shell") + EXIT3_QUERY + "&stdout=1&stderr=1",
                     ["v4.channel.k8s.io"])
    assert sock.getsubprotocol() == "v4.channel.k8s.io"
    messages, code = read_until_close(sock)
    assert code == 1000
    assert all(op == ws_client.ABNF.OPCODE_BINARY for op, _ in messages)
    assert messages[0][1] == b"\x01"  # the empty "session is up" message on stdout
    data = [m for _, m in messages[1:]]
    assert b"\x01out\n" in data and b"\x02err\n" in data
    assert json.loads(data[-1][1:])["reason"] == "NonZeroExitCode"
    assert data[-1][0] == 3


def test_base64_protocol_uses_text_frames(server: StreamingServer) -> None:
    sock = websocket(server, EXEC.format(pod="shell") + EXIT3_QUERY + "&stdout=1",
                     ["v4.base64.channel.k8s.io"])
    messages, _ = read_until_close(sock)
    assert all(op == ws_client.ABNF.OPCODE_TEXT for op, _ in messages)
    decoded = [(m[:1], base64.b64decode(m[1:])) for _, m in messages]
    assert (b"1", b"out\n") in decoded
    assert all(channel != b"2" for channel, _ in decoded)  # stderr was not asked for
    assert decoded[-1][0] == b"3" and json.loads(decoded[-1][1])["status"] == "Failure"


@pytest.mark.parametrize("protocols", [["channel.k8s.io"], None])
def test_v1_protocol_reports_only_the_error_text(server: StreamingServer,
                                                 protocols: list[str] | None) -> None:
    failing = websocket(server, EXEC.format(pod="shell") + EXIT3_QUERY + "&stdout=1",
                        protocols)
    assert failing.getsubprotocol() == (protocols[0] if protocols else None)
    messages, _ = read_until_close(failing)
    assert messages[-1][1] == b"\x03" + EXIT3_MESSAGE.encode()
    ok = websocket(server, EXEC.format(pod="shell") + "command=true&stdout=1", protocols)
    messages, _ = read_until_close(ok)
    assert [m for _, m in messages] == [b"\x01"]  # success: nothing on channel 3


def test_v5_wins_whenever_offered_and_unknown_protocols_are_refused(
        server: StreamingServer) -> None:
    sock = websocket(server, EXEC.format(pod="shell") + "command=true&stdout=1",
                     ["v4.channel.k8s.io", "v5.channel.k8s.io"])
    assert sock.getsubprotocol() == "v5.channel.k8s.io"
    read_until_close(sock)
    with pytest.raises(ws_client.WebSocketBadStatusException) as info:
        websocket(server, EXEC.format(pod="shell") + "command=true&stdout=1", ["v9.example"])
    assert info.value.status_code == 403


def test_pings_are_answered_during_a_session(server: StreamingServer) -> None:
    sock = websocket(server, EXEC.format(pod="shell") + "command=cat&stdin=1&stdout=1",
                     ["v5.channel.k8s.io"])
    assert sock.recv_data_frame(True)[0] == ws_client.ABNF.OPCODE_BINARY  # "session is up"
    sock.ping(b"hb")
    opcode, frame = sock.recv_data_frame(True)
    assert (opcode, frame.data) == (ws_client.ABNF.OPCODE_PONG, b"hb")
    sock.send_binary(b"\x00ping-pong\n")
    sock.send_binary(b"\xff\x00")
    messages, code = read_until_close(sock)
    assert (ws_client.ABNF.OPCODE_BINARY, b"\x01ping-pong\n") in messages
    assert json.loads(messages[-1][1][1:]) == {"metadata": {}, "status": "Success"}
    assert code == 1000
