"""Build the runtime's C helpers (`lkinit`, `podnet.so`) with gcc, once per source version.

The sources ship next to this module. Binaries go to `<cache_dir>/native/<hash>/`, where
the hash covers the sources and compiler flags: a changed source builds a new directory,
an unchanged one is never rebuilt. Builds write to a temporary name and rename into
place, so concurrent builders (several kubelets, several test processes) are safe.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from localkube.runtime.errors import NativeBuildError

_CFLAGS = ("-O2", "-Wall", "-Wextra", "-D_FORTIFY_SOURCE=2")
_TARGETS = {
    "lkinit": ("lkinit.c", (), ()),
    "podnet.so": ("podnet.c", ("-shared", "-fPIC"), ("-ldl", "-lpthread")),
}
_lock = threading.Lock()
_built: dict[Path, NativeTools] = {}


@dataclass(frozen=True)
class NativeTools:
    """Paths of the compiled helpers."""

    init: Path
    shim: Path


def default_cache_dir() -> Path:
    """Where compiled helpers and image layers live unless the caller says otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "localkube"


def _source(name: str) -> bytes:
    try:
        return resources.files(__package__).joinpath(name).read_bytes()
    except FileNotFoundError as exc:
        raise NativeBuildError(
            f"C source {name} is missing from the localkube installation "
            "(package data localkube/runtime/native/*.c)"
        ) from exc


def _digest() -> str:
    h = hashlib.sha256()
    for target, (src, flags, libs) in sorted(_TARGETS.items()):
        h.update(target.encode() + b"\0" + " ".join(_CFLAGS + flags + libs).encode() + b"\0")
        h.update(_source(src))
    return h.hexdigest()[:16]


def _compile(gcc: str, src: str, flags: tuple[str, ...], libs: tuple[str, ...], out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="lk-native-") as tmp:
        c_file = Path(tmp) / src
        c_file.write_bytes(_source(src))
        tmp_out = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}")
        cmd = [gcc, *_CFLAGS, *flags, "-o", str(tmp_out), str(c_file), *libs]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
            raise NativeBuildError(f"gcc failed to build {out.name}: {first}")
        tmp_out.chmod(0o755)
        os.replace(tmp_out, out)


def ensure_native(cache_dir: Path | None = None) -> NativeTools:
    """Return the helpers for the current sources, compiling them on first use.

    Blocking (gcc takes ~0.3 s); call it once at startup or via `asyncio.to_thread`.
    """
    root = (cache_dir or default_cache_dir()) / "native"
    with _lock:
        key = root / _digest()
        if key in _built:
            return _built[key]
        tools = NativeTools(init=key / "lkinit", shim=key / "podnet.so")
        if not (tools.init.exists() and tools.shim.exists()):
            gcc = shutil.which("gcc") or shutil.which("cc")
            if gcc is None:
                raise NativeBuildError(
                    "gcc not found: localkube compiles its container helpers at first use; "
                    "run `apt-get install gcc`"
                )
            key.mkdir(parents=True, exist_ok=True)
            key.chmod(0o755)
            for target, (src, flags, libs) in _TARGETS.items():
                if not (key / target).exists():
                    _compile(gcc, src, flags, libs, key / target)
        _built[key] = tools
        return tools
