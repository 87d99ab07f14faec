"""Pod volumes on the host, as the kubelet's volume manager prepares them before a sandbox.

- `persistentVolumeClaim` → the bound PV's `spec.hostPath.path` (PVs are directories that
  outlive pods). While the claim is missing or unbound the pod waits in ContainerCreating
  (`VolumesPending`), and is re-synced when claims or volumes change.
- `emptyDir` → `<pod dir>/volumes/kubernetes.io~empty-dir/<name>`, mode 0777, removed
  with the pod.
- `configMap` → files written from the ConfigMap (items/defaultMode honoured) under the
  pod dir; mounted read-only, refreshed when the ConfigMap changes.
- `hostPath` → the path itself (created for `DirectoryOrCreate`).

`fsGroup` is applied by the runtime when a container starts (`Mount.owned`: every volume
type but hostPath, as on a real node).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from localkube import resources as R
from localkube.store import Store


class VolumesPending(Exception):
    """Volumes cannot be set up yet; the message is the kubelet's FailedMount text."""


@dataclass(frozen=True)
class Mount:
    """A host path bound into a container."""

    source: Path
    target: str
    read_only: bool = False
    #: the kubelet applies fsGroup to it (not for hostPath)
    owned: bool = True


@dataclass
class PreparedVolume:
    path: Path
    read_only: bool = False
    owned: bool = True


def volume_dir(pod_dir: Path, plugin: str, name: str) -> Path:
    return pod_dir / "volumes" / f"kubernetes.io~{plugin}" / name


def prepare_volumes(store: Store, pod: dict, pod_dir: Path) -> dict[str, PreparedVolume]:
    """Set up every volume of the pod; raises `VolumesPending` to wait for the API."""
    ns = pod["metadata"]["namespace"]
    spec = pod.get("spec") or {}
    out: dict[str, PreparedVolume] = {}
    unmounted: list[str] = []
    for vol in spec.get("volumes") or []:
        name = vol.get("name", "")
        if "persistentVolumeClaim" in vol:
            path = _claim_path(store, ns, (vol["persistentVolumeClaim"] or {}).get("claimName"))
            if path is None:
                unmounted.append(name)
                continue
            path.mkdir(parents=True, exist_ok=True)
            read_only = bool((vol["persistentVolumeClaim"] or {}).get("readOnly"))
            prepared = PreparedVolume(path, read_only)
        elif "configMap" in vol:
            prepared = _config_map(store, ns, vol, pod_dir)
        elif "hostPath" in vol:
            host = vol["hostPath"] or {}
            path = Path(host.get("path", "/nonexistent"))
            if host.get("type") == "DirectoryOrCreate":
                path.mkdir(parents=True, exist_ok=True)
            out[name] = PreparedVolume(path, owned=False)
            continue
        else:  # emptyDir, and anything unsupported behaves like one
            path = volume_dir(pod_dir, "empty-dir", name)
            if not path.exists():
                path.mkdir(parents=True)
                path.chmod(0o777)
            prepared = PreparedVolume(path)
        out[name] = prepared
    if unmounted:
        names = "[" + " ".join(unmounted) + "]"
        raise VolumesPending(f"Unable to attach or mount volumes: unmounted volumes={names}, "
                             f"unattached volumes={names}: timed out waiting for the condition")
    return out


def _claim_path(store: Store, ns: str, claim: str | None) -> Path | None:
    pvc = store.peek(R.PVCS.key, ns, claim or "")
    if pvc is None or (pvc.get("status") or {}).get("phase") != "Bound":
        return None
    pv_name = (pvc.get("spec") or {}).get("volumeName")
    pv = store.peek(R.PVS.key, "", pv_name or "")
    host = ((pv or {}).get("spec") or {}).get("hostPath") or {}
    return Path(host["path"]) if host.get("path") else None


def _config_map(store: Store, ns: str, vol: dict, pod_dir: Path) -> PreparedVolume:
    source = vol["configMap"] or {}
    cm_name = source.get("name", "")
    cm = store.peek(R.CONFIGMAPS.key, ns, cm_name)
    if cm is None and not source.get("optional"):
        raise VolumesPending(f'MountVolume.SetUp failed for volume "{vol.get("name")}" : '
                             f'configmap "{cm_name}" not found')
    data = dict((cm or {}).get("data") or {})
    default_mode = int(source.get("defaultMode", 0o644))
    files: dict[str, tuple[str, int]] = {}
    if source.get("items"):
        for item in source["items"]:
            if item.get("key") in data:
                files[item.get("path", item["key"])] = (data[item["key"]],
                                                        int(item.get("mode", default_mode)))
    else:
        files = {key: (value, default_mode) for key, value in data.items()}
    root = volume_dir(pod_dir, "configmap", vol.get("name", ""))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for rel, (content, mode) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
        path.chmod(mode & 0o777)
    for existing in [p for p in root.rglob("*") if p.is_file()]:
        if str(existing.relative_to(root)) not in files:
            existing.unlink()
    return PreparedVolume(root, read_only=True)


def container_mounts(container: dict, volumes: dict[str, PreparedVolume]) -> list[Mount]:
    """The binds of one container (subPath and readOnly applied)."""
    out = []
    for m in container.get("volumeMounts") or []:
        vol = volumes.get(m.get("name", ""))
        if vol is None:
            continue
        source = vol.path
        if m.get("subPath"):
            source = source / m["subPath"]
            if not source.exists():
                source.mkdir(parents=True, exist_ok=True)
        out.append(Mount(source, m.get("mountPath", ""), bool(m.get("readOnly")) or vol.read_only,
                         vol.owned))
    return out
