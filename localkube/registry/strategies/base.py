"""The per-kind hooks the registry calls, with the defaults most kinds need.

Mirrors kube-apiserver's `rest.RESTCreateStrategy`/`RESTUpdateStrategy`: a kind overrides only
what differs (defaults, validation, which fields are immutable, how status is split off).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localkube.registry.core import Registry

STATUS_META_KEYS = ("labels", "annotations", "finalizers", "ownerReferences")


class Strategy:
    """Defaults for kinds with no special rules."""

    def prepare_for_create(self, obj: dict, registry: Registry) -> None:
        """Reset what a client may not set on create (usually status)."""

    def default(self, obj: dict) -> None:
        """Fill defaulted fields, as the apiserver's defaulting functions do."""

    def validate(self, obj: dict) -> list[dict]:
        return []

    def validate_update(self, new: dict, old: dict) -> list[dict]:
        return []

    def validate_status(self, obj: dict) -> list[dict]:
        return []

    def spec_of(self, obj: dict) -> Any:
        """What counts as the spec for generation bumps."""
        return obj.get("spec")

    def keep_status(self, new: dict, old: dict) -> None:
        """A main-resource write cannot change status."""
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)

    def prepare_status_update(self, new: dict, old: dict) -> None:
        """A status write keeps spec and most metadata (ResetObjectMetaForStatus)."""
        for key, value in old.items():
            if key not in ("status", "metadata"):
                new[key] = value
        for key in list(new):
            if key not in old and key not in ("status", "metadata", "apiVersion", "kind"):
                del new[key]
        for key in STATUS_META_KEYS:
            if key in old["metadata"]:
                new["metadata"][key] = old["metadata"][key]
            else:
                new["metadata"].pop(key, None)

    def prepare_for_update(
        self, new: dict, old: dict, subresource: str | None, registry: Registry
    ) -> None:
        """Kind-specific adjustments after the generic ones."""

    def grace_period(self, obj: dict, requested: object) -> int | None:
        """Seconds the object lingers with deletionTimestamp before removal (pods only)."""
        return None

    def extra_finalizers(self, obj: dict) -> list[str]:
        """Finalizers kept outside metadata.finalizers (namespaces' spec.finalizers)."""
        return []

    def after_create(self, obj: dict, registry: Registry) -> None: ...
    def after_update(self, obj: dict, old: dict, registry: Registry) -> None: ...
    def after_delete_requested(self, obj: dict, registry: Registry) -> None: ...
    def after_remove(self, obj: dict, registry: Registry) -> None: ...
