"""The C helpers: compiled once per source version, with a clear error without gcc."""

from __future__ import annotations

from pathlib import Path

import pytest

from localkube.runtime import NativeBuildError, ensure_native
from localkube.runtime import native as native_module

from .conftest import require_runtime


def test_missing_gcc_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no compiler on this PATH
    with pytest.raises(NativeBuildError) as err:
        ensure_native(tmp_path / "cache")
    message = str(err.value)
    assert "apt-get install gcc" in message
    assert "\n" not in message


@pytest.mark.slow
def test_helpers_are_compiled_once_per_source_version(tmp_path: Path) -> None:
    require_runtime()
    tools = ensure_native(tmp_path)
    assert tools.init.parent.name == native_module._digest()
    stamps = (tools.init.stat().st_mtime_ns, tools.shim.stat().st_mtime_ns)
    native_module._built.clear()  # a new process: only the cache directory is left
    again = ensure_native(tmp_path)
    assert again == tools
    assert (again.init.stat().st_mtime_ns, again.shim.stat().st_mtime_ns) == stamps
