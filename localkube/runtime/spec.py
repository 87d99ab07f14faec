"""What a container is asked to run, and how that resolves against its image.

`ContainerSpec` is the runtime's view of a pod's container (plus the pod-level security
context fields that matter to a process). `resolve_process` turns it into the concrete
process: argv (Kubernetes: `command` replaces the image's entrypoint and drops its cmd,
`args` replace the cmd), environment (image env, overridden by the spec, plus HOSTNAME
and HOME as container runtimes add them), user, primary group and supplementary groups
(containerd: the primary group of `runAsUser` comes from the image's /etc/passwd unless
`runAsGroup` is set; groups listing the user by name in /etc/group, `fsGroup` and
`supplementalGroups` are added) and working directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from localkube.images import Image
from localkube.runtime.errors import ContainerCreateError


@dataclass(frozen=True)
class VolumeMount:
    """A host directory or file bound into the container."""

    host_path: Path
    container_path: str
    read_only: bool = False
    # Apply the pod's fsGroup to this volume (kubelet does for emptyDir, PVs, configMaps,
    # secrets; not for hostPath).
    manage_ownership: bool = True


@dataclass
class ContainerSpec:
    """One container of a pod, with the security context fields that shape its process."""

    name: str
    image: Image
    command: Sequence[str] | None = None
    args: Sequence[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    working_dir: str | None = None
    run_as_user: int | None = None
    run_as_group: int | None = None
    fs_group: int | None = None
    supplemental_groups: Sequence[int] = ()
    volume_mounts: Sequence[VolumeMount] = ()
    termination_message_path: str = "/dev/termination-log"
    # securityContext.readOnlyRootFilesystem: only volumes (and /dev) stay writable.
    read_only_root: bool = False


@dataclass(frozen=True)
class ProcessConfig:
    """The resolved main process; exec'd commands share user, groups, env and cwd."""

    argv: tuple[str, ...]
    env: tuple[str, ...]  # "KEY=VALUE"
    uid: int
    gid: int
    groups: tuple[int, ...]
    cwd: str
    user_name: str | None


@dataclass(frozen=True)
class _Account:
    name: str
    uid: int
    gid: int
    home: str


def _image_etc(image: Image, name: str) -> Path:
    layered = image.layer / "etc" / name
    return layered if layered.exists() else Path("/etc") / name


def _passwd(image: Image) -> list[_Account]:
    accounts: list[_Account] = []
    try:
        lines = _image_etc(image, "passwd").read_text().splitlines()
    except OSError:
        return accounts
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 6 and fields[2].isdigit() and fields[3].isdigit():
            accounts.append(_Account(fields[0], int(fields[2]), int(fields[3]), fields[5]))
    return accounts


def _member_groups(image: Image, user: str) -> list[int]:
    groups: list[int] = []
    try:
        lines = _image_etc(image, "group").read_text().splitlines()
    except OSError:
        return groups
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit() and user in fields[3].split(","):
            groups.append(int(fields[2]))
    return groups


def _image_user(image: Image, accounts: list[_Account]) -> tuple[int, int | None]:
    """The image's USER as (uid, gid or None); root when unset."""
    if not image.user:
        return 0, None
    user, _, group = image.user.partition(":")
    if user.isdigit():
        uid = int(user)
    else:
        match = next((a for a in accounts if a.name == user), None)
        if match is None:
            raise ContainerCreateError(f"unable to find user {user}: no matching entries")
        uid = match.uid
    return uid, int(group) if group.isdigit() else None


def resolve_argv(spec: ContainerSpec) -> tuple[str, ...]:
    image = spec.image
    if spec.command:
        argv = [*spec.command, *(spec.args or ())]
    else:
        argv = [*image.entrypoint, *(spec.args if spec.args is not None else image.cmd)]
    if not argv:
        raise ContainerCreateError("no command specified")
    return tuple(argv)


def resolve_process(spec: ContainerSpec, hostname: str) -> ProcessConfig:
    image = spec.image
    accounts = _passwd(image)
    uid, image_gid = _image_user(image, accounts)
    if spec.run_as_user is not None:
        uid, image_gid = spec.run_as_user, None
    account = next((a for a in accounts if a.uid == uid), None)
    if spec.run_as_group is not None:
        gid = spec.run_as_group
    elif image_gid is not None:
        gid = image_gid
    else:
        gid = account.gid if account else 0

    groups = [gid]
    if account is not None:
        groups += _member_groups(image, account.name)
    if spec.fs_group is not None:
        groups.append(spec.fs_group)
    groups += list(spec.supplemental_groups)

    env: dict[str, str] = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    env.update(dict(image.env))
    env["HOSTNAME"] = hostname
    env.update(spec.env)
    if "HOME" not in env:
        env["HOME"] = account.home if account and account.home else "/"
    cwd = spec.working_dir or image.working_dir or "/"
    if not cwd.startswith("/"):
        raise ContainerCreateError(f"working directory {cwd!r} must be absolute")
    return ProcessConfig(
        argv=resolve_argv(spec),
        env=tuple(f"{k}={v}" for k, v in env.items()),
        uid=uid,
        gid=gid,
        groups=tuple(dict.fromkeys(groups)),
        cwd=cwd,
        user_name=account.name if account else None,
    )
