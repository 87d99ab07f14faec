"""Bearer-token authentication, the only credential localkube issues.

Like a kubeadm cluster, the health endpoints and `/version` are readable without
credentials (the `system:public-info-viewer` role); everything else, discovery and OpenAPI
included, needs the token written into the kubeconfig.
"""

from __future__ import annotations

import hmac

from localkube.apimachinery.errors import unauthorized

PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version", "/version/"})


class BearerAuth:
    def __init__(self, token: str) -> None:
        self._expected = token.encode()

    def check(self, path: str, authorization: str | None) -> None:
        """Raise 401 Unauthorized unless the path is public or the token matches."""
        if path in PUBLIC_PATHS:
            return
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(errors="replace"), self._expected
        ):
            raise unauthorized("Unauthorized")
