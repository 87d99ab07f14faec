"""Event recording: core/v1 Events as client-go's recorder emits them.

`Registry.record_event` delegates here.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from localkube import resources as R
from localkube.apimachinery.meta import format_time
from localkube.registry import apierrors as E

if TYPE_CHECKING:
    from localkube.registry.core import Registry


def record_event(
    reg: Registry,
    involved: dict,
    event_type: str,
    reason: str,
    message: str,
    component: str,
    host: str | None = None,
) -> None:
    """Emit a core/v1 Event as client-go's recorder does, folding repeats into `count`."""
    meta = involved.get("metadata", {})
    namespace = meta.get("namespace") or "default"
    now = format_time(reg.clock())
    for obj, _ in reg.store.scan(R.EVENTS.key, namespace):
        inv = obj.get("involvedObject", {})
        if (
            inv.get("uid") == meta.get("uid")
            and obj.get("reason") == reason
            and obj.get("message") == message
            and obj.get("type") == event_type
        ):
            ev_name = obj["metadata"]["name"]

            def bump(ev: dict) -> None:
                ev["count"] = int(ev.get("count", 1)) + 1
                ev["lastTimestamp"] = now

            reg.mutate(R.EVENTS, namespace, ev_name, bump)
            return
    # client-go's recorder names an event `<object>.<%x of UnixNano>`, so the apiserver's
    # name-ordered lists (and `kubectl get events`) show an object's events in order.
    reg._last_event_ns = max(int(reg.clock() * 1e9), reg._last_event_ns + 1)
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta.get('name', 'unknown')}.{reg._last_event_ns:x}",
            "namespace": namespace,
        },
        "involvedObject": {
            "apiVersion": involved.get("apiVersion", ""),
            "kind": involved.get("kind", ""),
            "name": meta.get("name", ""),
            "namespace": meta.get("namespace", ""),
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message,
        "type": event_type,
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }
    with contextlib.suppress(E.ApiError):  # events are best effort, as in client-go
        reg.create(R.EVENTS, namespace, event)
