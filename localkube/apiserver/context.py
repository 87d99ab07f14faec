"""State shared by all request handlers of one API server."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from localkube.rbac.tokens import TokenIssuer

if TYPE_CHECKING:
    from localkube.cluster import Cluster
    from localkube.registry import Registry
    from localkube.store import Store

#: Real apiservers end watches after 30-60 minutes; clients re-establish them.
DEFAULT_WATCH_TIMEOUT = 1800.0
#: How often an idle watch that allows bookmarks gets one (the watch cache uses 1 minute).
BOOKMARK_INTERVAL = 60.0


@dataclass
class ApiContext:
    cluster: Cluster
    token: str
    server_address: str = "127.0.0.1:6443"
    ready: bool = False
    watch_timeout: float = DEFAULT_WATCH_TIMEOUT
    bookmark_interval: float = BOOKMARK_INTERVAL
    #: open watches per resource key, exported on /metrics as apiserver_registered_watchers
    watchers: Counter[str] = field(default_factory=Counter)
    #: signs and verifies service account tokens (TokenRequest); a new key per instance
    tokens: TokenIssuer = field(default_factory=TokenIssuer)

    @property
    def registry(self) -> Registry:
        return self.cluster.registry

    @property
    def store(self) -> Store:
        return self.cluster.store
