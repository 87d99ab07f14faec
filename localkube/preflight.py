"""Checks run before `localkube up` starts kubelets, each failure one actionable line.

Kubelets run containers as real processes in their own namespaces, with ZooKeeper from
Debian's packages, so the host must provide root, util-linux's namespace tools, Java,
the ZooKeeper jars and a C compiler (for the small helpers images build). Without kubelets
(`--no-kubelets`) nothing is required.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")

# tool -> (what it is, the package that provides it)
TOOLS: dict[str, tuple[str, str]] = {
    "unshare": ("unshare", "util-linux"),
    "nsenter": ("nsenter", "util-linux"),
    "setpriv": ("setpriv", "util-linux"),
    "java": ("Java", "default-jre-headless"),
    "gcc": ("gcc", "gcc"),
}


def problems(
    *,
    path: str | None = None,
    euid: int | None = None,
    zookeeper_jar: Path = ZOOKEEPER_JAR,
) -> list[str]:
    """Every reason kubelets cannot run here, as `localkube: ...` lines (empty when fine).

    `path` and `euid` default to this process's PATH and effective uid; they are parameters
    so the checks can be exercised against real conditions (an empty PATH, a missing file).
    """
    search = os.environ.get("PATH", "") if path is None else path
    uid = os.geteuid() if euid is None else euid
    out = []
    if uid != 0:
        out.append(
            "localkube: kubelets need root (containers get their own PID, mount and UTS "
            "namespaces): run 'sudo localkube up ...', or pass --no-kubelets"
        )
    for tool, (label, package) in TOOLS.items():
        if shutil.which(tool, path=search) is None:
            out.append(f"localkube: {label} is not installed: run 'apt-get install -y {package}'")
    if not zookeeper_jar.is_file():
        out.append(
            f"localkube: ZooKeeper is not installed ({zookeeper_jar} is missing): "
            "run 'apt-get install -y zookeeper'"
        )
    return out
