"""Commands the user gives the harness to run outside the Kubernetes API.

A real cluster's nodes cannot be switched off through the API, so the node-failure drill
runs ``--node-stop-command`` / ``--node-start-command`` (``{node}`` replaced by the node's
name); on localkube they default to ``localkube node stop|start``. A command that fails is a
``ClusterError`` with its exit status and the last line it printed.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass

from harness.errors import ClusterError

DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class NodeCommands:
    stop: str
    start: str

    def run(self, action: str, node: str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Run the ``stop`` or ``start`` command for ``node``; its output's last line."""
        template = self.stop if action == "stop" else self.start
        return run_command(template.replace("{node}", node), timeout=timeout)


def run_command(command: str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise ClusterError(f"`{command}` could not run: {exc}") from exc
    output = (done.stdout + done.stderr).strip().splitlines()
    last = output[-1] if output else "(no output)"
    if done.returncode != 0:
        raise ClusterError(f"`{command}` failed with exit status {done.returncode}: {last}")
    return last
