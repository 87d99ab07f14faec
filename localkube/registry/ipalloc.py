"""Allocation of addresses from a loopback network (ClusterIPs, and pod IPs for kubelets)."""

from __future__ import annotations

import ipaddress


class AddressPool:
    """Hands out the addresses of one network, lowest free first; never the network/broadcast."""

    def __init__(self, network: str, skip: int = 1) -> None:
        self.network = ipaddress.ip_network(network)
        self._skip = skip
        self._used: set[str] = set()

    def allocate(self) -> str:
        for i, host in enumerate(self.network.hosts()):
            if i < self._skip:
                continue
            ip = str(host)
            if ip not in self._used:
                self._used.add(ip)
                return ip
        raise RuntimeError(f"address pool {self.network} is exhausted")

    def reserve(self, ip: str) -> bool:
        """Mark an address taken; False when it is outside the pool or already in use."""
        if ipaddress.ip_address(ip) not in self.network or ip in self._used:
            return False
        self._used.add(ip)
        return True

    def release(self, ip: str) -> None:
        self._used.discard(ip)

    def __contains__(self, ip: str) -> bool:
        try:
            return ipaddress.ip_address(ip) in self.network
        except ValueError:
            return False
