"""Authorization of every request that is not from system:masters: request attributes
from the URL, RBAC over the objects in the store, and the 403 `Status` kube-apiserver
sends when nothing allows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from localkube import resources as R
from localkube.apimachinery.errors import ApiError, forbidden
from localkube.rbac.attributes import Attributes, request_attributes
from localkube.rbac.policy import Decision, authorize, forbidden_detail, qualified_resource
from localkube.rbac.user import ANONYMOUS, UserInfo
from localkube.store import Store


class StorePolicy:
    """The RBAC objects as the store holds them (read-only views, never mutated)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def cluster_role_bindings(self) -> Iterable[dict]:
        return (obj for obj, _ in self.store.scan(R.CLUSTERROLEBINDINGS.key))

    def role_bindings(self, namespace: str) -> Iterable[dict]:
        return (obj for obj, _ in self.store.scan(R.ROLEBINDINGS.key, namespace))

    def cluster_role(self, name: str) -> dict | None:
        return self.store.peek(R.CLUSTERROLES.key, "", name)

    def role(self, namespace: str, name: str) -> dict | None:
        return self.store.peek(R.ROLES.key, namespace, name)


def decide(store: Store, attrs: Attributes) -> Decision:
    if attrs.user.is_master:
        return Decision(True)
    return authorize(StorePolicy(store), attrs)


def check(store: Store, user: UserInfo, method: str, path: str,
          query: Mapping[str, str]) -> None:
    """Raise 403 Forbidden unless `user` may do `method path`."""
    if user.is_master or user is ANONYMOUS:  # anonymous only ever reaches public paths
        return
    attrs = request_attributes(user, method, path, query)
    decision = decide(store, attrs)
    if not decision.allowed:
        raise denial(attrs, decision.reason)


def denial(attrs: Attributes, reason: str = "") -> ApiError:
    return forbidden(qualified_resource(attrs), attrs.name, forbidden_detail(attrs, reason))
