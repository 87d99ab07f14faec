"""The kubelet's security-context checks before a container is created.

`runAsNonRoot` is enforced by the kubelet, not the API server (kuberuntime's
verifyRunAsNonRoot): a container whose effective user is root, or whose image names a
user the kubelet cannot resolve to a number, does not start; it waits with
`CreateContainerConfigError` and the kubelet's own message, and is retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localkube.kubelet.env import ConfigError


def effective(pod: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    """A security-context field: the container's value wins over the pod's."""
    sc = container.get("securityContext") or {}
    if key in sc and sc[key] is not None:
        return sc[key]
    return ((pod.get("spec") or {}).get("securityContext") or {}).get(key)


def _pod_ref(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f'"{meta.get("name", "")}_{meta.get("namespace", "")}({meta.get("uid", "")})"'


def verify_run_as_non_root(pod: Mapping[str, Any], container: Mapping[str, Any],
                           image_user: str | None) -> None:
    """Raise `ConfigError` when runAsNonRoot is set and the container would run as root."""
    if not effective(pod, container, "runAsNonRoot"):
        return
    where = f"(pod: {_pod_ref(pod)}, container: {container.get('name', '')})"
    run_as_user = effective(pod, container, "runAsUser")
    if run_as_user is not None:
        if int(run_as_user) == 0:
            raise ConfigError(f"container's runAsUser breaks non-root policy {where}")
        return
    user = (image_user or "").split(":", 1)[0]
    if user and not user.isdigit():
        raise ConfigError(f"container has runAsNonRoot and image has non-numeric user ({user}), "
                          f"cannot verify user is non-root {where}")
    if not user or int(user) == 0:
        raise ConfigError(f"container has runAsNonRoot and image will run as root {where}")
