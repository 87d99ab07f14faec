"""`Impersonate-User`/`Impersonate-Group` headers (`kubectl --as`, `--as-group`): the request
runs as that identity if the caller may `impersonate` it (system:masters may), as in
kube-apiserver's impersonation filter. Other Impersonate-* headers (Uid, Extra) are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from localkube.apimachinery.errors import bad_request
from localkube.apiserver.authorization import decide, denial
from localkube.rbac.attributes import Attributes
from localkube.rbac.user import (
    AUTHENTICATED,
    SERVICE_ACCOUNTS,
    UserInfo,
    parse_service_account,
)
from localkube.store import Store


def _targets(caller: UserInfo, name: str, groups: list[str]) -> list[Attributes]:
    """What the caller must be allowed to `impersonate` (one check per user and group)."""
    account = parse_service_account(name)
    if account is not None:
        first = Attributes(caller, "impersonate", True, "", "", "v1", account[0],
                           "serviceaccounts", "", account[1])
    else:
        first = Attributes(caller, "impersonate", True, "", "", "v1", "", "users", "", name)
    return [first, *(Attributes(caller, "impersonate", True, "", "", "v1", "", "groups", "", g)
                     for g in groups)]


def impersonate(store: Store, caller: UserInfo, headers: Mapping[str, str],
                groups: list[str]) -> UserInfo:
    """The identity the request acts as; 403 when the caller may not impersonate it."""
    name = headers.get("Impersonate-User", "").strip()
    if not name:
        if groups:
            raise bad_request("requested Impersonate-Group without impersonating a user")
        return caller
    for attrs in _targets(caller, name, groups):
        if not decide(store, attrs).allowed:
            raise denial(attrs)
    account = parse_service_account(name)
    implied = [SERVICE_ACCOUNTS, f"{SERVICE_ACCOUNTS}:{account[0]}"] if account else []
    all_groups = [*implied, *groups]
    if name != "system:anonymous" and AUTHENTICATED not in all_groups:
        all_groups.append(AUTHENTICATED)
    return UserInfo(name, tuple(dict.fromkeys(all_groups)))
