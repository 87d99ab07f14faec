"""Kubernetes API semantics over the store, shared by HTTP handlers and in-process components."""

from localkube.registry.core import Registry

__all__ = ["Registry"]
