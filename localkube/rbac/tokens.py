"""Service account tokens: JWTs signed by this cluster, verified without a lookup table.

Real clusters sign with an RSA key (RS256) and publish it; localkube signs with a random
per-instance HMAC key (HS256), since nobody outside verifies its tokens. Claims follow
kube-apiserver's bound tokens (iss, sub, aud, exp, iat, nbf, jti, kubernetes.io), so a
token decodes the way a real one does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass

from localkube.rbac.user import service_account_name

ISSUER = "https://kubernetes.default.svc.cluster.local"
API_AUDIENCES = (ISSUER,)
DEFAULT_EXPIRATION = 3600  # kubectl create token without --duration
MIN_EXPIRATION = 600
MAX_EXPIRATION = 1 << 32


@dataclass(frozen=True)
class TokenClaims:
    namespace: str
    name: str
    uid: str
    audiences: tuple[str, ...]
    expires: int  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and verifies this cluster's service account tokens."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self._kid = _b64(hashlib.sha256(self._key).digest()[:16])

    def issue(self, namespace: str, name: str, uid: str, audiences: list[str],
              now: int, seconds: int) -> str:
        claims = {
            "aud": audiences, "exp": now + seconds, "iat": now, "iss": ISSUER,
            "jti": str(uuid.uuid4()), "nbf": now,
            "kubernetes.io": {"namespace": namespace,
                              "serviceaccount": {"name": name, "uid": uid}},
            "sub": service_account_name(namespace, name),
        }
        header = {"alg": "HS256", "kid": self._kid, "typ": "JWT"}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        return f"{signing}.{self._sign(signing)}"

    def verify(self, token: str, now: int) -> TokenClaims | None:
        """The claims of a token this issuer signed and that has not expired, else None."""
        parts = token.split(".")
        if len(parts) != 3 or not hmac.compare_digest(parts[2], self._sign(
                f"{parts[0]}.{parts[1]}")):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
            k8s = claims["kubernetes.io"]
            claims_out = TokenClaims(str(k8s["namespace"]), str(k8s["serviceaccount"]["name"]),
                                     str(k8s["serviceaccount"]["uid"]),
                                     tuple(claims.get("aud") or ()), int(claims["exp"]))
            not_before = int(claims.get("nbf", 0))
        except (ValueError, KeyError, TypeError):
            return None
        if claims_out.expires <= now or not_before > now + 60:
            return None
        return claims_out

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest())
