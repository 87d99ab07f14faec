"""Volume ownership for a pod's fsGroup, as the kubelet applies it.

kubelet (pkg/volume/volume_linux.go) walks the volume: every file and directory gets the
fsGroup as its group and the group read/write bits (read-only volumes: read bits);
directories also get the group execute bit and setgid, so files created later inherit
the group. That is why the tutorial shows `drwxr-sr-x ... zookeeper zookeeper` for a
directory the server created under its volume.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_RW = 0o660
_RO = 0o440
_EXEC = 0o110


def apply_fs_group(root: Path, gid: int, read_only: bool = False) -> None:
    """Give `root` and everything below it to group `gid` (symlinks are not followed)."""
    mask = _RO if read_only else _RW
    if not root.is_dir():
        _fix(str(root), gid, mask)
        return
    for dirpath, dirnames, filenames in os.walk(root):
        _fix(dirpath, gid, mask | _EXEC | stat.S_ISGID)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                os.chown(path, -1, gid, follow_symlinks=False)
            else:
                _fix(path, gid, mask)


def _fix(path: str, gid: int, mask: int) -> None:
    info = os.lstat(path)
    if info.st_gid != gid:
        # chown may clear set-id bits: read the mode again afterwards.
        os.chown(path, -1, gid, follow_symlinks=False)
        info = os.lstat(path)
    mode = stat.S_IMODE(info.st_mode)
    if mode | mask != mode:
        os.chmod(path, mode | mask)
