"""The API server's TLS identity: a private CA and a serving certificate for 127.0.0.1.

TLS is not optional: kubectl (client-go's clientcmd) only sends the kubeconfig's bearer
token over TLS, so a plain-HTTP server could not tell kubectl from anyone else. The CA is
embedded in the kubeconfig (`certificate-authority-data`), so clients verify the server
without trusting anything system-wide. Keys are made once per state directory with the
`openssl` command (no Python crypto dependency) and reused by later runs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

DAYS = "3650"
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_SERVER_EXT = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth\n"
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
)


class CertError(Exception):
    """Certificates could not be made (openssl missing or failing)."""


@dataclass(frozen=True)
class Certs:
    ca_file: Path
    cert_file: Path
    key_file: Path

    @property
    def ca_pem(self) -> bytes:
        return self.ca_file.read_bytes()

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def ensure(directory: Path) -> Certs:
    """Certificates under `directory`, made now unless a usable set is already there."""
    certs = Certs(directory / "ca.crt", directory / "apiserver.crt", directory / "apiserver.key")
    if all(p.is_file() for p in (certs.ca_file, certs.cert_file, certs.key_file)):
        try:
            certs.server_context()
            return certs
        except (ssl.SSLError, OSError):
            pass  # unreadable or mismatched: make new ones
    openssl = shutil.which("openssl")
    if openssl is None:
        raise CertError("openssl is not installed: run 'apt-get install -y openssl'")
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        work = Path(tmp)
        _run([openssl, "req", "-x509", *_EC, "-keyout", work / "ca.key", "-out", work / "ca.crt",
              "-days", DAYS, "-subj", "/CN=localkube-ca",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        _run([openssl, "req", "-new", *_EC, "-keyout", work / "apiserver.key",
              "-out", work / "apiserver.csr", "-subj", "/CN=localkube"])
        (work / "ext").write_text(_SERVER_EXT)
        _run([openssl, "x509", "-req", "-in", work / "apiserver.csr", "-CA", work / "ca.crt",
              "-CAkey", work / "ca.key", "-set_serial", str(secrets.randbits(63)),
              "-days", DAYS, "-extfile", work / "ext", "-out", work / "apiserver.crt"])
        for name in ("ca.key", "apiserver.key"):
            os.chmod(work / name, 0o600)
        for name in ("ca.key", "ca.crt", "apiserver.key", "apiserver.crt"):
            os.replace(work / name, directory / name)
    return certs


def _run(argv: list) -> None:
    try:
        subprocess.run([str(a) for a in argv], check=True, capture_output=True, timeout=30)
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip().splitlines()
        raise CertError(f"openssl failed: {detail[-1] if detail else exc}") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CertError(f"openssl failed: {exc}") from None
