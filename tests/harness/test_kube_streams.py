"""A streamed response left early must not poison the connection it came on (slow).

Regression: after a drill's wait returned mid-watch, the next request on the pooled
connection read the rest of that chunked body (the CRLF after the last chunk read, or the
``0`` terminator) as its status line: ``BadStatusLine('\\r\\n')``. urllib3 retries a GET,
not a PATCH. The server's framing was right; the harness put the half-read connection back
into the pool (``harness.kube.transport.release`` now closes it instead).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.kube.client import Cluster, connect
from harness.kube.watch import _lines
from harness.localkube_process import LocalkubeProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

MERGE = "application/merge-patch+json"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    process = LocalkubeProcess(
        nodes=1, state_dir=tmp_path_factory.mktemp("localkube"), extra_args=["--no-kubelets"]
    ).start()
    cluster = connect(process.kubeconfig, None, "default", local=True)
    yield cluster
    cluster.close()
    process.stop()


# 10 B: the whole event and the stream's next bytes sit in one buffer; 20 kB: the event is
# read in two reads and the CRLF after it stays in the TLS layer (the reported '\r\n').
@pytest.mark.parametrize("size", [10, 20_000])
def test_patch_after_a_watch_left_mid_stream(cluster: Cluster, size: int) -> None:
    transport, name = cluster.transport, f"cm-{os.urandom(3).hex()}"
    path = "/api/v1/namespaces/default/configmaps"
    transport.request("POST", path, body={"metadata": {"name": name}, "data": {"a": "x" * size}})

    def first_event() -> dict:
        # the shape of drillrun.watch_until and drain's wait: return on the first match
        query = [("fieldSelector", f"metadata.name={name}"), ("watch", True),
                 ("timeoutSeconds", 30)]
        with transport.stream("GET", path, query=query) as response:
            for line in _lines(response):
                return {"line": line}
        raise AssertionError("the watch ended without an event")

    for _ in range(3):  # each time on the connection the previous stream came back on
        assert first_event()
        patched = transport.request("PATCH", f"{path}/{name}", body={"data": {"b": "1"}},
                                    content_type=MERGE)
        assert patched["data"]["b"] == "1"


def test_patch_after_a_watch_read_to_its_end_reuses_the_connection(cluster: Cluster) -> None:
    """A stream read to its terminator is whole: its connection is pooled, not closed."""
    transport = cluster.transport
    path = "/api/v1/namespaces/default/configmaps"
    with transport.stream("GET", path, query=[("watch", True), ("timeoutSeconds", 1),
                                              ("resourceVersion", "0"),
                                              ("fieldSelector", "metadata.name=none")]) as r:
        assert list(_lines(r)) == []
        assert r.closed
    name = f"cm-{os.urandom(3).hex()}"
    transport.request("POST", path, body={"metadata": {"name": name}})
    patched = transport.request("PATCH", f"{path}/{name}", body={"data": {"b": "1"}},
                                content_type=MERGE)
    assert patched["data"] == {"b": "1"}
