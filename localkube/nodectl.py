"""`localkube node stop|start NAME`: the client of the admin endpoint (`apiserver/admin.py`).

It finds the running instance as `localkube down` does (the pid file of the state
directory) and talks to it with `<state-dir>/kubeconfig`, which `up` always writes. Every
failure is a `UserError`: one line, non-zero exit, no traceback.
"""

from __future__ import annotations

import json
import ssl
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from localkube import kubeconfig, statedir

TIMEOUT = 60.0


class NodeCtlError(Exception):
    """A one-line reason why the node could not be switched."""


def switch(state_dir: Path, node: str, action: str, timeout: float = TIMEOUT) -> str:
    """POST .../nodes/{node}/{action}; returns the server's message."""
    pid = statedir.read_pid(state_dir)
    if pid is None or not statedir.is_localkube(pid):
        raise NodeCtlError(f"not running (state dir {state_dir})")
    try:
        url, token, ca = kubeconfig.read(state_dir / statedir.KUBECONFIG)
    except (OSError, KeyError, StopIteration, ValueError, TypeError) as exc:
        raise NodeCtlError(f"cannot read {state_dir / statedir.KUBECONFIG}: {exc}") from None
    with tempfile.NamedTemporaryFile(suffix=".crt") as ca_file:
        ca_file.write(ca)
        ca_file.flush()
        context = ssl.create_default_context(cafile=ca_file.name)
    request = urllib.request.Request(
        f"{url}/localkube/v1/nodes/{quote(node, safe='')}/{action}", method="POST", data=b"",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return _message(response.read()) or f"node {node} {action}ed"
    except urllib.error.HTTPError as exc:
        raise NodeCtlError(_message(exc.read()) or f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NodeCtlError(f"cannot reach the API server at {url}: {reason}") from None


def _message(body: bytes) -> str:
    try:
        status = json.loads(body)
    except ValueError:
        return ""
    return str(status.get("message") or "") if isinstance(status, dict) else ""
