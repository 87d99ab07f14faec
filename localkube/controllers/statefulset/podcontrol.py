"""Writes a StatefulSet pass makes to pods and claims, each with the event kubectl shows.

Event reasons and messages are the controller's (``SuccessfulCreate`` ``create Pod zk-0 in
StatefulSet zk successful``, ``create Claim datadir-zk-0 Pod zk-0 in StatefulSet zk success``,
``FailedCreate`` … ``failed error: <err>``), since ``kubectl describe sts`` prints them.
"""

from __future__ import annotations

from localkube import resources as R
from localkube.apimachinery.errors import ApiError
from localkube.controllers.statefulset import claims as C
from localkube.controllers.statefulset import pods as P
from localkube.registry import Registry

COMPONENT = "statefulset-controller"


class SyncError(Exception):
    """One or more failures of a pass; the message reads like Go's aggregated error."""

    @classmethod
    def of(cls, messages: list[str]) -> SyncError:
        return cls(messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]")


class PodControl:
    """Create/update/delete the pods and claims of one set, recording events on it."""

    def __init__(self, registry: Registry, sts: dict) -> None:
        self.registry = registry
        self.store = registry.store
        self.sts = sts
        self.ns = sts["metadata"].get("namespace", "")
        self.set_name = sts["metadata"]["name"]

    # -- events --------------------------------------------------------------------------
    def pod_event(self, verb: str, pod: dict, err: Exception | None) -> None:
        name = pod["metadata"]["name"]
        if err is None:
            self.registry.record_event(
                self.sts, "Normal", f"Successful{verb.title()}",
                f"{verb} Pod {name} in StatefulSet {self.set_name} successful", COMPONENT)
        else:
            self.registry.record_event(
                self.sts, "Warning", f"Failed{verb.title()}",
                f"{verb} Pod {name} in StatefulSet {self.set_name} failed error: {err}",
                COMPONENT)

    def claim_event(self, pod: dict, claim: dict, err: Exception | None) -> None:
        pod_name, claim_name = pod["metadata"]["name"], claim["metadata"]["name"]
        if err is None:
            self.registry.record_event(
                self.sts, "Normal", "SuccessfulCreate",
                f"create Claim {claim_name} Pod {pod_name} in StatefulSet {self.set_name} success",
                COMPONENT)
        else:
            self.registry.record_event(
                self.sts, "Warning", "FailedCreate",
                f"create Claim {claim_name} for Pod {pod_name} in StatefulSet {self.set_name} "
                f"failed error: {err}", COMPONENT)

    # -- claims --------------------------------------------------------------------------
    def create_claims(self, pod: dict) -> None:
        """GET each claim, POST the missing ones; existing claims are reused untouched."""
        errors: list[str] = []
        for claim in C.claims_for(self.sts, pod):
            name = claim["metadata"]["name"]
            existing = self.store.peek(R.PVCS.key, self.ns, name)
            if existing is None:
                try:
                    self.registry.create(R.PVCS, self.ns, claim)
                except ApiError as exc:
                    errors.append(f"failed to create PVC {name}: {exc}")
                    if exc.reason != "AlreadyExists":
                        self.claim_event(pod, claim, exc)
                else:
                    self.claim_event(pod, claim, None)
            elif existing["metadata"].get("deletionTimestamp"):
                errors.append(f"pvc {name} is being deleted")
        if errors:
            raise SyncError.of(errors)

    def claim_is_stale(self, pod: dict) -> bool:
        """A claim still owned by a previous pod of this name must be collected first."""
        if C.policy(self.sts)[1] == C.RETAIN:
            return False
        for claim in C.claims_for(self.sts, pod):
            existing = self.store.peek(R.PVCS.key, self.ns, claim["metadata"]["name"])
            if existing is not None and C.claim_is_stale(existing, pod):
                return True
        return False

    def claims_match_policy(self, pod: dict) -> bool:
        for claim in C.claims_for(self.sts, pod):
            existing = self.store.peek(R.PVCS.key, self.ns, claim["metadata"]["name"])
            if existing is not None and not C.owners_up_to_date(existing, self.sts, pod):
                return False
        return True

    def update_claims_for_policy(self, pod: dict) -> None:
        """Point each claim's owner refs at the set and/or pod as the retention policy says."""
        for claim in C.claims_for(self.sts, pod):
            name = claim["metadata"]["name"]
            existing = self.store.peek(R.PVCS.key, self.ns, name)
            if existing is None or C.owners_up_to_date(existing, self.sts, pod):
                continue

            def fix(obj: dict) -> None:
                refs = C.desired_owner_refs(obj, self.sts, pod)
                if refs:
                    obj["metadata"]["ownerReferences"] = refs
                else:
                    obj["metadata"].pop("ownerReferences", None)

            try:
                self.registry.mutate(R.PVCS, self.ns, name, fix)
            except ApiError as exc:
                raise SyncError(
                    f"could not update claim {name} for delete policy ownerRefs: {exc}"
                ) from exc

    def create_missing_claims(self, pod: dict) -> None:
        self.create_claims(pod)
        try:
            self.update_claims_for_policy(pod)
        except SyncError as exc:
            self.pod_event("update", pod, exc)
            raise

    # -- pods ----------------------------------------------------------------------------
    def create_pod(self, pod: dict) -> None:
        """Claims first, then the pod (``CreateStatefulPod``)."""
        try:
            self.create_claims(pod)
        except SyncError as exc:
            self.pod_event("create", pod, exc)
            raise
        try:
            created = self.registry.create(R.PODS, self.ns, pod)
        except ApiError as exc:
            if exc.reason != "AlreadyExists":
                self.pod_event("create", pod, exc)
            raise
        try:
            self.update_claims_for_policy(created)
        except SyncError as exc:
            self.pod_event("update", created, exc)
            raise
        self.pod_event("create", pod, None)

    def update_pod(self, pod: dict) -> None:
        """Restore a member's identity labels, volumes and claim owners (``UpdateStatefulPod``)."""
        name = pod["metadata"]["name"]
        try:
            if not P.storage_matches(self.sts, pod):
                self.create_claims(pod)
            if not self.claims_match_policy(pod):
                self.update_claims_for_policy(pod)

            def fix(obj: dict) -> None:
                P.fix_identity(obj)
                if not P.storage_matches(self.sts, obj):
                    P.fix_storage(self.sts, obj)

            self.registry.mutate(R.PODS, self.ns, name, fix)
        except (ApiError, SyncError) as exc:
            self.pod_event("update", pod, exc)
            raise
        self.pod_event("update", pod, None)

    def delete_pod(self, pod: dict) -> None:
        """A plain DELETE (graceful for bound pods); NotFound is reported but harmless."""
        try:
            self.registry.delete(R.PODS, self.ns, pod["metadata"]["name"], {})
        except ApiError as exc:
            self.pod_event("delete", pod, exc)
            raise
        self.pod_event("delete", pod, None)
