"""The power switch of the simulated machines (`localkube node stop|start NAME`).

Stopping a node is a power loss: whoever runs on that machine (its kubelet, its heartbeat)
is told to stop at once and says nothing more to the API server; the API objects stay as
they were. Starting it is a boot: the same components resume and reconcile from the API.
Listeners are awaited in order, so when `stop` returns every process of the node is gone.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class UnknownNode(LookupError):
    """No simulated machine has that name."""


class PowerListener(Protocol):
    async def power_off(self, node: str) -> None: ...

    async def power_on(self, node: str) -> None: ...


class NodePower:
    """Which of the cluster's machines are switched off."""

    def __init__(self, nodes: list[str]) -> None:
        self.nodes = list(nodes)
        self._off: set[str] = set()
        self._listeners: list[PowerListener] = []
        self._lock = asyncio.Lock()

    def listen(self, listener: PowerListener) -> None:
        self._listeners.append(listener)

    def is_on(self, node: str) -> bool:
        return node not in self._off

    def _check(self, node: str) -> None:
        if node not in self.nodes:
            raise UnknownNode(node)

    async def stop(self, node: str) -> bool:
        """Power `node` off; False when it already was."""
        self._check(node)
        async with self._lock:
            if node in self._off:
                return False
            self._off.add(node)
            for listener in self._listeners:
                await listener.power_off(node)
            return True

    async def start(self, node: str) -> bool:
        """Power `node` on; False when it already was."""
        self._check(node)
        async with self._lock:
            if node not in self._off:
                return False
            self._off.discard(node)
            for listener in self._listeners:
                await listener.power_on(node)
            return True
