"""The container's root file system, as a shell script run inside its new mount namespace.

Layout (everything below lives only in the container's private mount namespace, so it
disappears with the container and never shows in the host's mount table):

    /            tmpfs
    /usr /etc /opt /var
                 overlay: lower = image layer dir (if it has one) over the host dir (or
                 the layer dir alone for the image's `private_dirs`), upper/work on a
                 per-instance scratch tmpfs -> writes and deletions stay in this container
                 instance; a restart starts from the image again
    /bin /sbin /lib /lib64 ...
                 the host's merged-/usr symlinks (or overlays when the host is not merged)
    /proc        fresh procfs of the container's PID namespace
    /dev         tmpfs with null, zero, full, random, urandom, tty, ptmx, shm, the host's
                 devpts (for exec TTYs) and the termination-log file
    /tmp /run    fresh tmpfs; /run/localkube holds the pod IP and the network shim
    /etc/hosts /etc/hostname /etc/resolv.conf
                 bind mounts of the pod sandbox's files
    volumes      bind mounts at their mountPaths (read-only when asked)
    /data /conf /entrypoint.sh ...
                 the image's own top-level entries: directories overlaid like the above
                 (layer only), files copied, symlinks recreated

With readOnlyRootFilesystem the root, the overlays and /tmp and /run (unless a volume sits
there) are remounted read-only once everything is mounted; volumes and /dev stay writable.

Any other host path is invisible. Mount points are resolved in Python against the image
layer and the host, following symlinks inside the container's view, so a volume under e.g.
`/var/run` (a symlink to `/run`) lands in the container's `/run` and never on the host.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from localkube.runtime.errors import ContainerCreateError

# Top-level directories shared copy-on-write with the host.
OVERLAY_DIRS = ("usr", "etc", "opt", "var")
# Top-level names that are symlinks into /usr on a merged-/usr host.
USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Empty directories the root gets; each is a fresh tmpfs or stays an empty dir.
EMPTY_DIRS = ("proc", "dev", "sys", "tmp", "run", "root", "home", "mnt", "srv", "media")
LOCALKUBE_DIR = "/run/localkube"
SHIM_PATH = f"{LOCALKUBE_DIR}/podnet.so"
DEVICES = (  # name, major, minor
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
    ("ptmx", 5, 2),
)
_FORBIDDEN_IN_OPTIONS = (",", ":", "\n", " ")


@dataclass(frozen=True)
class BindMount:
    """A host file or directory bound into the container."""

    source: Path
    target: str  # absolute path inside the container
    read_only: bool = False


@dataclass(frozen=True)
class RootfsPlan:
    """Everything the setup script needs."""

    rootfs: Path  # mount point of the new root (inside the container dir)
    scratch: Path  # mount point of the tmpfs holding overlay upper/work dirs
    layer: Path | None  # image layer directory
    private_dirs: Sequence[str]  # top-level dirs of the layer that hide the host's
    localkube_dir: Path  # bound read-only at /run/localkube
    pod_files: dict[str, Path]  # "hosts" -> sandbox file, ...
    binds: Sequence[BindMount]  # volumes and the termination-log file
    working_dir: str
    error_file: Path
    read_only: bool = False  # securityContext.readOnlyRootFilesystem


def _check_option_path(path: Path) -> None:
    if any(ch in str(path) for ch in _FORBIDDEN_IN_OPTIONS):
        raise ContainerCreateError(
            f"path {str(path)!r} cannot be used in overlay options "
            "(no commas, colons or spaces allowed)"
        )


def _lower_dirs(layer: Path | None, name: str, private: Sequence[str] = ()) -> list[Path]:
    lowers = []
    if layer is not None and (layer / name).is_dir():
        lowers.append(layer / name)
        if name in private:
            return lowers
    lowers.append(Path("/") / name)
    return lowers


def resolve_in_container(path: str, layer: Path | None, private: Sequence[str] = ()) -> str:
    """Resolve symlinks of a container path as the container will see it.

    The container's view of the overlay directories is the image layer over the host;
    everything else at the top is a directory the setup script creates (no symlinks in
    it), except the merged-/usr links. Returns an absolute path without symlinks.
    """
    if not path.startswith("/"):
        raise ContainerCreateError(f"mount path {path!r} must be absolute")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = [*resolved, part]
        link = _symlink_target(candidate, layer, private)
        if link is None:
            resolved = candidate
            continue
        hops += 1
        if hops > 40:
            raise ContainerCreateError(f"too many levels of symbolic links in {path!r}")
        new_parts = [p for p in link.split("/") if p not in ("", ".")]
        if link.startswith("/"):
            resolved = []
        parts = new_parts + parts
    return "/" + "/".join(resolved)


def _symlink_target(parts: list[str], layer: Path | None, private: Sequence[str]) -> str | None:
    top = parts[0]
    if len(parts) == 1 and top in USR_LINKS:
        host = Path("/") / top
        return os.readlink(host) if host.is_symlink() else None
    if top not in OVERLAY_DIRS:
        if top not in image_top_level(layer):
            return None
        assert layer is not None
        candidate = layer / Path(*parts)
        return os.readlink(candidate) if candidate.is_symlink() else None
    rel = Path(*parts)
    bases = [layer] if layer is not None else []
    if top not in private or layer is None:
        bases.append(Path("/"))
    for base in bases:
        candidate = base / rel
        if candidate.is_symlink():
            return os.readlink(candidate)
        if candidate.exists():
            return None
    return None


class _Script:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def run(self, *argv: str | Path) -> None:
        self.lines.append(" ".join(shlex.quote(str(a)) for a in argv))

    def raw(self, line: str) -> None:
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render_setup_script(plan: RootfsPlan) -> str:
    """The /bin/sh script lkinit runs (as root, before pivot_root) to build the root."""
    for p in (plan.scratch, plan.layer):
        if p is not None:
            _check_option_path(p)
    root = str(plan.rootfs)
    s = _Script()
    s.raw("# Generated by localkube: builds this container's root file system.")
    s.raw(f"exec 2>{shlex.quote(str(plan.error_file))}")
    s.raw("set -e")
    s.raw("PATH=/usr/sbin:/usr/bin:/sbin:/bin")
    s.run("mount", "-t", "tmpfs", "-o", "mode=0755", "rootfs", root)
    s.run("mount", "-t", "tmpfs", "-o", "mode=0700", "scratch", plan.scratch)

    for name in OVERLAY_DIRS:
        _overlay(s, plan, name)
    for name in USR_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            s.run("ln", "-s", os.readlink(host), f"{root}/{name}")
        elif host.is_dir():
            _overlay(s, plan, name)
    for name in image_top_level(plan.layer):
        _top_level(s, plan, name)
    for name in EMPTY_DIRS:
        s.run("mkdir", "-p", f"{root}/{name}")
    s.run("chmod", "0700", f"{root}/root")
    s.run("chmod", "1777", f"{root}/tmp")

    s.run("mount", "-t", "proc", "-o", "nosuid,nodev,noexec", "proc", f"{root}/proc")
    _dev(s, root)
    s.run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", f"{root}/tmp")
    s.run("mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs", f"{root}/run")
    s.run("mkdir", "-m", "1777", f"{root}/run/lock")
    s.run("mkdir", f"{root}{LOCALKUBE_DIR}")
    s.run("mount", "--bind", plan.localkube_dir, f"{root}{LOCALKUBE_DIR}")
    s.run("mount", "-o", "remount,bind,ro", f"{root}{LOCALKUBE_DIR}")
    s.raw(f"printf '%s\\n' {SHIM_PATH} > {shlex.quote(root + '/etc/ld.so.preload')}")

    for name, source in plan.pod_files.items():
        target = f"{root}/etc/{name}"
        s.run("rm", "-f", target)
        s.run("touch", target)
        s.run("mount", "--bind", source, target)

    binds = sorted(plan.binds, key=lambda b: b.target.count("/"))
    for bind in binds:
        target = root + resolve_in_container(bind.target, plan.layer, plan.private_dirs)
        if bind.source.is_dir():
            s.run("mkdir", "-p", target)
        else:
            s.run("mkdir", "-p", posixpath.dirname(target))
            s.raw(f"[ -e {shlex.quote(target)} ] || touch {shlex.quote(target)}")
        s.run("mount", "--bind", bind.source, target)
        if bind.read_only:
            s.run("mount", "-o", "remount,bind,ro", target)

    cwd = resolve_in_container(plan.working_dir or "/", plan.layer, plan.private_dirs)
    s.run("mkdir", "-p", root + cwd)
    if plan.read_only:
        _read_only_root(s, root, plan.layer)
    return s.text()


def _read_only_root(s: _Script, root: str, layer: Path | None) -> None:
    """readOnlyRootFilesystem: the root and everything the image provides become read-only.

    As with runc, /dev, /dev/shm, the pod's /etc/hosts-style files and the volumes stay
    writable; /tmp and /run are part of the root file system there, so they are read-only
    here too unless a volume is mounted on them. Remounting a superblock leaves the bind
    mounts on top of it untouched.
    """
    for name in (*OVERLAY_DIRS, *USR_LINKS, *image_top_level(layer)):
        target = f"{root}/{name}"
        s.raw(f"if mountpoint -q {shlex.quote(target)}; then "
              f"mount -o remount,ro {shlex.quote(target)}; fi")
    for name in ("tmp", "run"):
        target = f"{root}/{name}"
        s.raw(f"if mountpoint -q {shlex.quote(target)} && "
              f"[ \"$(findmnt -n -o SOURCE {shlex.quote(target)})\" = tmpfs ]; then "
              f"mount -o remount,ro {shlex.quote(target)}; fi")
    s.run("mount", "-o", "remount,ro", root)


def image_top_level(layer: Path | None) -> list[str]:
    """Top-level entries the image adds itself (`/data`, `/conf`, `/entrypoint.sh` ...)."""
    if layer is None or not layer.is_dir():
        return []
    reserved = {*OVERLAY_DIRS, *USR_LINKS, *EMPTY_DIRS}
    return sorted(p.name for p in layer.iterdir() if p.name not in reserved)


def _top_level(s: _Script, plan: RootfsPlan, name: str) -> None:
    """An image's own top-level entry: links and files copied, directories overlaid."""
    assert plan.layer is not None
    source = plan.layer / name
    target = f"{plan.rootfs}/{name}"
    if source.is_symlink():
        s.run("ln", "-s", os.readlink(source), target)
    elif source.is_dir():
        _overlay(s, plan, name, [source])
    else:
        s.run("cp", "-a", source, target)


def _overlay(s: _Script, plan: RootfsPlan, name: str, lowers: list[Path] | None = None) -> None:
    lowers = lowers or _lower_dirs(plan.layer, name, plan.private_dirs)
    upper = plan.scratch / "upper" / name
    work = plan.scratch / "work" / name
    target = f"{plan.rootfs}/{name}"
    s.run("mkdir", "-p", upper, work, target)
    # The merged directory takes owner and mode from the upper dir.
    s.run("chown", f"--reference={lowers[0]}", upper)
    s.run("chmod", f"--reference={lowers[0]}", upper)
    options = "lowerdir={},upperdir={},workdir={}".format(
        ":".join(str(p) for p in lowers), upper, work
    )
    s.run("mount", "-t", "overlay", "-o", options, "overlay", target)


def _dev(s: _Script, root: str) -> None:
    dev = f"{root}/dev"
    s.run("mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,size=65536k", "tmpfs", dev)
    for name, major, minor in DEVICES:
        s.run("mknod", "-m", "0666", f"{dev}/{name}", "c", str(major), str(minor))
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ):
        s.run("ln", "-s", target, f"{dev}/{name}")
    s.run("mkdir", f"{dev}/pts", f"{dev}/shm")
    s.run("mount", "--bind", "/dev/pts", f"{dev}/pts")
    s.run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "shm", f"{dev}/shm")
