"""localkube's own admin API: switching a simulated machine off and on.

`POST /localkube/v1/nodes/{name}/stop` and `.../start` (the same bearer token as every
other request) drive `cluster.power`; `localkube node stop|start` calls them. They answer
a `Status`: Success (200, also when the node already was in that state), NotFound (404)
for a name that is no simulated machine, 404/405 for any other path or method. This is no
Kubernetes API: a real cluster loses a node by pulling its plug, which nothing in the API
can do.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from localkube.apimachinery import errors as E
from localkube.apiserver import responses, routing
from localkube.apiserver.context import ApiContext
from localkube.nodes.power import UnknownNode

PREFIX = "/localkube/v1/"
ACTIONS = {"stop": ("stopped", "was already stopped"), "start": ("started", "was already running")}


async def handle(ctx: ApiContext, request: web.Request, path: str) -> web.StreamResponse:
    parts = path[len(PREFIX):].split("/") if path.startswith(PREFIX) else []
    if len(parts) != 3 or parts[0] != "nodes" or not parts[1] or parts[2] not in ACTIONS:
        raise routing.not_found()
    if request.method != "POST":
        raise routing.method_not_allowed()
    name, action = parts[1], parts[2]
    power = ctx.cluster.power
    try:
        # shielded: a client that hangs up must not leave a machine half switched off
        changed = await asyncio.shield(power.stop(name) if action == "stop"
                                       else power.start(name))
    except UnknownNode:
        raise E.not_found("nodes", name) from None
    done, already = ACTIONS[action]
    return responses.obj({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "message": f"node {name} {done if changed else already}",
        "details": {"name": name, "kind": "nodes"}, "code": 200,
    })
