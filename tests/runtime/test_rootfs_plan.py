"""The container root file system's setup script, rendered without running it.

Checks: readOnlyRootFilesystem remounts the image's directories and the root read-only
after the volumes are bound (and only then); an image's own top-level entries (`/data`,
`/entrypoint.sh` links) are placed and resolved as the container will see them.
"""

from __future__ import annotations

from pathlib import Path

from localkube.runtime.rootfs import (
    BindMount,
    RootfsPlan,
    image_top_level,
    render_setup_script,
    resolve_in_container,
)


def make_layer(tmp_path: Path) -> Path:
    layer = tmp_path / "layer"
    (layer / "opt" / "app").mkdir(parents=True)
    (layer / "data").mkdir()
    (layer / "entrypoint.sh").symlink_to("/opt/app/entrypoint.sh")
    (layer / "docker-entrypoint.sh").write_text("#!/bin/sh\n")
    (layer / "tmp").mkdir()  # reserved names stay the runtime's
    return layer


def plan(tmp_path: Path, read_only: bool) -> RootfsPlan:
    volume = tmp_path / "vol"
    volume.mkdir(exist_ok=True)
    return RootfsPlan(
        rootfs=tmp_path / "rootfs", scratch=tmp_path / "scratch", layer=make_layer(tmp_path),
        private_dirs=("opt",), localkube_dir=tmp_path / "lk", pod_files={},
        binds=[BindMount(volume, "/data/db")], working_dir="/", error_file=tmp_path / "err",
        read_only=read_only)


def test_image_top_level_entries(tmp_path: Path) -> None:
    layer = make_layer(tmp_path)
    assert image_top_level(layer) == ["data", "docker-entrypoint.sh", "entrypoint.sh"]
    assert image_top_level(None) == []
    assert resolve_in_container("/entrypoint.sh", layer, ("opt",)) == "/opt/app/entrypoint.sh"
    assert resolve_in_container("/data/db", layer, ("opt",)) == "/data/db"


def test_top_level_entries_are_linked_copied_or_overlaid(tmp_path: Path) -> None:
    script = render_setup_script(plan(tmp_path, read_only=False))
    root = tmp_path / "rootfs"
    assert f"ln -s /opt/app/entrypoint.sh {root}/entrypoint.sh" in script
    assert f"cp -a {tmp_path}/layer/docker-entrypoint.sh {root}/docker-entrypoint.sh" in script
    assert f"lowerdir={tmp_path}/layer/data," in script
    assert "remount,ro" not in script.split("mount --bind")[-1]


def test_read_only_root_is_remounted_after_the_volumes(tmp_path: Path) -> None:
    script = render_setup_script(plan(tmp_path, read_only=True))
    root = tmp_path / "rootfs"
    lines = script.splitlines()
    volume = next(i for i, line in enumerate(lines) if line.endswith(f"{root}/data/db"))
    remounts = [i for i, line in enumerate(lines) if "remount,ro" in line
                and "/run/localkube" not in line]
    assert remounts and min(remounts) > volume
    assert lines[-1] == f"mount -o remount,ro {root}"
    for name in ("usr", "etc", "opt", "var", "data", "tmp", "run"):
        assert any(f"{root}/{name}" in lines[i] for i in remounts), name
