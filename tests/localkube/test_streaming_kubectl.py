"""kubectl against the real API server app (discovery, bearer-token auth, routing) with
the streaming handlers behind it, plus the Python client through the same server."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios
from collections.abc import Iterator

import pytest
from kubernetes.stream import portforward, stream

from tests.localkube import streamkit
from tests.localkube.streamkit import StreamingServer, listening, wait_until

pytestmark = pytest.mark.slow
SLEEPER = ["sh", "-c", "echo one; echo two; echo three; exec sleep 100000"]
EXIT3 = ["sh", "-c", "echo out; echo err >&2; exit 3"]
WEB = ["nginx", "-g", "daemon off;"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamingServer]:
    with streamkit.serving(tmp_path_factory.mktemp("kubectl")) as srv:
        srv.call(srv.add_pod("shell", [("main", SLEEPER)]))
        srv.call(srv.add_pod("done", [("main", ["sh", "-c", "echo bye"])]))
        srv.call(srv.wait_exited("done", "main"))
        state = srv.call(srv.add_pod("web", [("web", WEB)]))
        wait_until(lambda: listening(state.sandbox.ip, 80), "the web server in the pod")
        wait_until(lambda: _kubectl(srv, "logs", "shell").stdout.count("\n") == 3,
                   "the output of shell")
        yield srv


def _kubectl(server: StreamingServer, *args: str, stdin: str | None = None,
             env: dict | None = None) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, KUBECONFIG=str(server.kubeconfig), **(env or {}))
    return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True,
                          env=environ, timeout=60)


def test_kubectl_exec_streams_and_exit_code(server: StreamingServer) -> None:
    done = _kubectl(server, "exec", "shell", "--", *EXIT3)
    assert (done.returncode, done.stdout) == (3, "out\n")
    assert done.stderr == "err\ncommand terminated with exit code 3\n"


def test_kubectl_exec_with_stdin(server: StreamingServer) -> None:
    done = _kubectl(server, "exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z", stdin="abc\n")
    assert (done.returncode, done.stdout) == (0, "ABC\n")


def test_kubectl_exec_with_a_terminal(server: StreamingServer) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 27, 93, 0, 0))
    environ = dict(os.environ, KUBECONFIG=str(server.kubeconfig))
    proc = subprocess.Popen(["kubectl", "exec", "-it", "shell", "--", "sh", "-c",
                             "tty; stty size; exit 4"],
                            stdin=slave, stdout=slave, stderr=slave, env=environ)
    os.close(slave)
    out = b""
    try:
        while select.select([master], [], [], 30)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: kubectl has exited and closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    assert proc.wait(30) == 4
    lines = out.decode().splitlines()
    assert lines[0].startswith("/dev/pts/")
    assert lines[1:] == ["27 93", "command terminated with exit code 4"]


def test_kubectl_exec_errors(server: StreamingServer) -> None:
    missing = _kubectl(server, "exec", "shell", "--", "no-such-command")
    assert missing.returncode == 1
    assert 'exec: "no-such-command": executable file not found in $PATH: unknown' \
        in missing.stderr
    assert missing.stderr.startswith("error: Internal error occurred: error executing command")
    stopped = _kubectl(server, "exec", "done", "--", "true")
    assert stopped.stderr == ('error: Internal error occurred: unable to upgrade connection: '
                              'container not found ("main")\n')
    invalid = _kubectl(server, "exec", "shell", "-c", "nope", "--", "true")
    assert invalid.stderr == ("Error from server (BadRequest): container nope is not valid "
                              "for pod shell\n")


def test_kubectl_over_spdy_is_refused_clearly(server: StreamingServer) -> None:
    spdy = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}
    refused = _kubectl(server, "exec", "shell", "--", "true", env=spdy)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: unable to upgrade connection: localkube serves "
                                      "pods/exec over WebSocket only")
    stopped = _kubectl(server, "exec", "done", "--", "true", env=spdy)
    assert stopped.stderr == 'error: unable to upgrade connection: container not found ("main")\n'


def test_kubectl_port_forward_is_refused_with_a_hint(server: StreamingServer) -> None:
    """kubectl tunnels SPDY inside WebSocket, which localkube does not speak."""
    done = _kubectl(server, "port-forward", "shell", "17000:7000")
    assert done.returncode == 1
    assert "does not implement SPDY; kubectl port-forward is not supported" in done.stderr


def test_kubectl_logs(server: StreamingServer) -> None:
    tail = _kubectl(server, "logs", "shell", "--tail", "2")
    assert (tail.returncode, tail.stdout) == (0, "two\nthree\n")
    previous = _kubectl(server, "logs", "shell", "-p")
    assert previous.stderr == ('Error from server (BadRequest): previous terminated container '
                               '"main" in pod "shell" not found\n')
    assert _kubectl(server, "logs", "done").stdout == "bye\n"


def test_python_client_through_the_api_server(server: StreamingServer) -> None:
    api = server.api()
    resp = stream(api.connect_get_namespaced_pod_exec, "shell", "default", command=EXIT3,
                  stdin=False, stdout=True, stderr=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=30)
    assert (resp.read_stdout(), resp.read_stderr(), resp.returncode) == ("out\n", "err\n", 3)
    assert api.read_namespaced_pod_log("shell", "default", tail_lines=1) == "three\n"
    pf = portforward(api.connect_get_namespaced_pod_portforward, "web", "default", ports="80")
    sock = pf.socket(80)
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    assert reply.startswith(b"HTTP/1.0 200")


def test_streaming_needs_the_token(server: StreamingServer) -> None:
    status, body = server.get("/api/v1/namespaces/default/pods/shell/log", token="wrong")
    assert (status, json.loads(body)["reason"]) == (401, "Unauthorized")
