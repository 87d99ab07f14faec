"""The localkube started for a run never outlives the run, even one killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.model.progress import Progress
from harness.waits import wait_for

pytestmark = pytest.mark.slow

STARTER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from harness.localkube_process import LocalkubeProcess

    lk = LocalkubeProcess(nodes=1, state_dir=Path(sys.argv[1]), extra_args=["--no-kubelets"])
    lk.start()
    print(lk.process.pid, flush=True)
    sys.stdin.read()  # hold until killed
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.split(")")[-1].split()[0] != "Z"


def test_localkube_stops_when_the_run_is_killed(tmp_path: Path) -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.stdout is not None
    localkube_pid = int(run.stdout.readline())
    assert _alive(localkube_pid), "localkube should be running while the run is"

    run.send_signal(signal.SIGKILL)
    run.wait(10)

    wait_for(
        lambda: Progress(not _alive(localkube_pid), f"localkube pid {localkube_pid} alive"),
        timeout=60,
        description="localkube to exit after its pytest run was SIGKILLed",
        recheck=0.2,
    )
