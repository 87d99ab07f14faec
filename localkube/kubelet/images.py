"""The kubelet's image manager: pull policy, pull events and ImagePullBackOff.

Images are localkube recipes; a known image counts as present on the machine (it is
materialised on first use), an unknown one cannot be pulled. Per pull policy, as
pkg/kubelet/images/image_manager.go: `Never`/`IfNotPresent` with a known image →
Normal `Pulled` `Container image "x" already present on machine`; `Always` → `Pulling`
then `Pulled` `Successfully pulled image ...`; a failed pull → Warning `Failed`, waiting
`ErrImagePull`, and while the per-image back-off (10 s doubling to 300 s) runs, waiting
`ImagePullBackOff` with Normal `BackOff` `Back-off pulling image "x"`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from localkube.images import Image, ImageError, InvalidReferenceError, pull_image, resolve_image
from localkube.kubelet.backoff import Backoff
from localkube.kubelet.context import NodeContext


@dataclass
class PullFailure:
    """Why a container cannot start yet: the waiting reason/message and when to retry."""

    reason: str
    message: str
    retry_after: float | None


def go_elapsed(seconds: float) -> str:
    """Go's Duration.String for a measured interval (``12.3456ms``, ``1.52s``)."""
    if seconds < 1:
        return f"{seconds * 1e3:.6f}".rstrip("0").rstrip(".") + "ms"
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"


def _size(layer: Path) -> int:
    total = 0
    for path in layer.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


class ImageManager:
    """Pulls for one pod (back-off is keyed by pod UID and image, as the kubelet's)."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self.backoff = Backoff()

    async def ensure(self, pod: dict, container: dict) -> Image | PullFailure:
        image = str(container.get("image", ""))
        policy = container.get("imagePullPolicy") or "IfNotPresent"
        ev = self.ctx.event
        try:
            resolve_image(image)
            present = True
        except InvalidReferenceError as exc:
            msg = f'Failed to apply default image tag "{image}": {exc}'
            ev(pod, "Warning", "InspectFailed", msg)
            return PullFailure("InvalidImageName", msg, None)
        except ImageError:
            present = False
        if policy == "Never" and not present:
            msg = f'Container image "{image}" is not present with pull policy of Never'
            ev(pod, "Warning", "ErrImageNeverPull", msg)
            return PullFailure("ErrImageNeverPull", msg, None)
        if present and policy != "Always":
            pulled = await self._pull(image)
            if isinstance(pulled, Image):
                ev(pod, "Normal", "Pulled", f'Container image "{image}" already present on machine')
                return pulled
        now = time.monotonic()
        if self.backoff.in_backoff_since_update(image, now):
            msg = f'Back-off pulling image "{image}"'
            ev(pod, "Normal", "BackOff", msg)
            ev(pod, "Warning", "Failed", "Error: ImagePullBackOff")
            return PullFailure("ImagePullBackOff", msg,
                               self.backoff.remaining_since_update(image, now))
        ev(pod, "Normal", "Pulling", f'Pulling image "{image}"')
        began = time.monotonic()
        pulled = await self._pull(image)
        if isinstance(pulled, Image):
            took = go_elapsed(time.monotonic() - began)
            size = await asyncio.to_thread(_size, pulled.layer)
            ev(pod, "Normal", "Pulled", f'Successfully pulled image "{image}" in {took} ({took} '
                                        f"including waiting). Image size: {size} bytes.")
            return pulled
        ev(pod, "Warning", "Failed", f'Failed to pull image "{image}": {pulled}')
        ev(pod, "Warning", "Failed", "Error: ErrImagePull")
        self.backoff.next(image, time.monotonic(), time.monotonic())
        # Show ErrImagePull for a moment, then ImagePullBackOff on the next sync.
        return PullFailure("ErrImagePull", pulled, 1.0)

    async def _pull(self, image: str) -> Image | str:
        try:
            return await asyncio.to_thread(pull_image, image, self._cache_dir())
        except ImageError as exc:
            return str(exc)

    def _cache_dir(self) -> Path:
        from localkube.runtime import default_cache_dir

        return self.ctx.cache_dir or default_cache_dir()
