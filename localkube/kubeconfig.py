"""Writing the kubeconfig that points kubectl and the Python client at a localkube.

The cluster entry carries the server URL (https://127.0.0.1:PORT) and the CA that signed
its certificate; the user entry carries the bearer token. Entries are named `localkube`
(cluster, user, context). An existing file is merged, not clobbered: other clusters and
contexts stay, only the `localkube` entries are replaced and `current-context` is set.
Writes are atomic (temp file + rename) and mode 0600, because the file holds the token.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import yaml

NAME = "localkube"


def entries(server: str, token: str, ca_pem: bytes, name: str = NAME) -> dict:
    """A complete kubeconfig holding only the localkube entries."""
    cluster = {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
        ],
        "current-context": name,
    }


def merge(existing: dict | None, fresh: dict, name: str = NAME) -> dict:
    """`existing` with the entries of `fresh` replaced or added and made current."""
    if not existing:
        return fresh
    out = dict(existing)
    for section in ("clusters", "users", "contexts"):
        current = out.get(section) or []
        kept = [e for e in current if isinstance(e, dict) and e.get("name") != name]
        out[section] = [*kept, *fresh[section]]
    out["current-context"] = name
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Config")
    return out


def write(path: Path, server: str, token: str, ca_pem: bytes) -> None:
    """Create or update the kubeconfig at `path` (0600, atomically)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = None
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text())
            existing = loaded if isinstance(loaded, dict) else None
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            existing = None  # unreadable: replace it rather than fail to start
    fresh = entries(server, token, ca_pem)
    text = yaml.safe_dump(merge(existing, fresh), sort_keys=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path, name: str = NAME) -> tuple[str, str, bytes]:
    """Server URL, token and CA certificate of the localkube entries (tests, benchmarks)."""
    config = yaml.safe_load(Path(path).read_text())
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == name)
    token = next(u["user"]["token"] for u in config["users"] if u["name"] == name)
    return cluster["server"], token, base64.b64decode(cluster["certificate-authority-data"])
