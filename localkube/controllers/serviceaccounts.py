"""The service account controller: every active namespace has a `default` ServiceAccount,
re-created when deleted, as kube-controller-manager's serviceaccount-controller does (so
`kubectl create token default` works in any namespace).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.controllers.base import Controller, Key
from localkube.store import DELETED, Change

if TYPE_CHECKING:
    from localkube.cluster import Cluster

DEFAULT = "default"


class ServiceAccountsController(Controller):
    name = "serviceaccount"
    watches = (R.NAMESPACES.key, R.SERVICEACCOUNTS.key)

    def initial_keys(self) -> Iterable[Key]:
        return [n["metadata"]["name"] for n, _ in self.store.scan(R.NAMESPACES.key)]

    def keys_for(self, change: Change) -> Iterator[Key]:
        if change.resource == R.NAMESPACES.key and change.type != DELETED:
            yield change.obj["metadata"]["name"]
        elif change.type == DELETED and change.obj["metadata"].get("name") == DEFAULT:
            yield change.namespace

    async def reconcile(self, key: Key) -> float | None:
        namespace = str(key)
        ns = self.store.peek(R.NAMESPACES.key, "", namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return None
        if self.store.peek(R.SERVICEACCOUNTS.key, namespace, DEFAULT) is not None:
            return None
        try:
            self.registry.create(R.SERVICEACCOUNTS, namespace, {"metadata": {"name": DEFAULT}})
        except ApiError as exc:
            if exc.code not in (403, 404, 409):  # terminating, gone, or created meanwhile
                raise
        return None


def build(cluster: Cluster) -> list[Controller]:
    return [ServiceAccountsController(cluster.registry)]
