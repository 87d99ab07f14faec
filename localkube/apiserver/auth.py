"""Bearer-token authentication: the admin token of the kubeconfig, or a service account
token from `kubectl create token` (TokenRequest).

Like a kubeadm cluster, the health endpoints and `/version` are readable without
credentials (the `system:public-info-viewer` role); everything else, discovery and OpenAPI
included, needs a token. The admin token authenticates as `kubernetes-admin` in
`system:masters`; a service account token as `system:serviceaccount:<ns>:<name>`, and only
while that service account (same uid) exists and the token has not expired.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from localkube.apimachinery.errors import unauthorized
from localkube.rbac.tokens import API_AUDIENCES, TokenIssuer
from localkube.rbac.user import ADMIN, ANONYMOUS, UserInfo, service_account_user

PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version", "/version/"})

#: (namespace, name) -> the service account's uid, or None when it does not exist
AccountLookup = Callable[[str, str], str | None]


class BearerAuth:
    def __init__(self, token: str, issuer: TokenIssuer | None = None,
                 accounts: AccountLookup | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._expected = token.encode()
        self._issuer = issuer
        self._accounts = accounts
        self._clock = clock

    def authenticate(self, path: str, authorization: str | None) -> UserInfo:
        """The requesting user; anonymous only on public paths; else 401 Unauthorized."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        user = self._user(token) if scheme.lower() == "bearer" and token else None
        if user is not None:
            return user
        if path in PUBLIC_PATHS:
            return ANONYMOUS
        raise unauthorized("Unauthorized")

    def _user(self, token: str) -> UserInfo | None:
        if hmac.compare_digest(token.encode(errors="replace"), self._expected):
            return ADMIN
        if self._issuer is None or self._accounts is None or token.count(".") != 2:
            return None
        claims = self._issuer.verify(token, int(self._clock()))
        if claims is None or not set(claims.audiences) & set(API_AUDIENCES):
            return None
        if self._accounts(claims.namespace, claims.name) != claims.uid:
            return None  # deleted (or deleted and re-created): its tokens die with it
        return service_account_user(claims.namespace, claims.name, claims.uid)
