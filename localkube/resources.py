"""The catalog of API resources localkube serves.

One table drives discovery, routing, the store's keys and error messages, so a resource
is added in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    """One REST resource (e.g. apps/v1 statefulsets) and what clients may do with it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    has_generation: bool = False
    has_status: bool = True
    verbs: tuple[str, ...] = field(default=ALL_VERBS)

    @property
    def key(self) -> str:
        """Store key: `statefulsets.apps`, or just `pods` for the core group."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def base_path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "namespaces", "Namespace", False, ("ns",), subresources=("status",)),
    Resource("", "v1", "nodes", "Node", False, ("no",), subresources=("status",)),
    Resource(
        "",
        "v1",
        "pods",
        "Pod",
        True,
        ("po",),
        ("all",),
        subresources=("status", "binding", "eviction", "exec", "log", "portforward"),
    ),
    Resource("", "v1", "services", "Service", True, ("svc",), ("all",), ("status",)),
    Resource("", "v1", "endpoints", "Endpoints", True, ("ep",), has_status=False),
    Resource("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), (), ("status",)),
    Resource(
        "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), (), ("status",)
    ),
    Resource("", "v1", "configmaps", "ConfigMap", True, ("cm",), has_status=False),
    Resource("", "v1", "events", "Event", True, ("ev",), has_status=False),
    Resource(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        True,
        ("sts",),
        ("all",),
        ("status", "scale"),
        has_generation=True,
    ),
    Resource("apps", "v1", "controllerrevisions", "ControllerRevision", True, has_status=False),
    Resource(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        True,
        ("pdb",),
        (),
        ("status",),
        has_generation=True,
    ),
    Resource(
        "storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",), has_status=False
    ),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",), (), ("token",),
             has_status=False),
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True, has_status=False),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role", True, has_status=False),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True,
             has_status=False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False,
             has_status=False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
             False, has_status=False),
    # Create-only reviews: answered from the caller's identity, never stored.
    Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews",
             "SelfSubjectAccessReview", False, has_status=False, verbs=("create",)),
    Resource("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False,
             has_status=False, verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
             False, has_status=False, verbs=("create",)),
    # Stored and served so that charts which ship one apply cleanly; nothing enforces it
    # (pods share the host's loopback network).
    Resource(
        "networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",),
        has_generation=True, has_status=False,
    ),
)

BY_KEY: dict[str, Resource] = {r.key: r for r in RESOURCES}
BY_KIND: dict[str, Resource] = {r.kind: r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    """Find a resource by its URL parts; None when localkube does not serve it."""
    r = BY_KEY.get(f"{plural}.{group}" if group else plural)
    if r is None or r.version != version:
        return None
    return r


def for_kind(kind: str) -> Resource:
    return BY_KIND[kind]


# Handy names for controllers and tests.
PODS = BY_KEY["pods"]
NODES = BY_KEY["nodes"]
NAMESPACES = BY_KEY["namespaces"]
SERVICES = BY_KEY["services"]
ENDPOINTS = BY_KEY["endpoints"]
PVS = BY_KEY["persistentvolumes"]
PVCS = BY_KEY["persistentvolumeclaims"]
CONFIGMAPS = BY_KEY["configmaps"]
EVENTS = BY_KEY["events"]
STATEFULSETS = BY_KEY["statefulsets.apps"]
REVISIONS = BY_KEY["controllerrevisions.apps"]
PDBS = BY_KEY["poddisruptionbudgets.policy"]
STORAGECLASSES = BY_KEY["storageclasses.storage.k8s.io"]
SERVICEACCOUNTS = BY_KEY["serviceaccounts"]
LEASES = BY_KEY["leases.coordination.k8s.io"]
ROLES = BY_KEY["roles.rbac.authorization.k8s.io"]
ROLEBINDINGS = BY_KEY["rolebindings.rbac.authorization.k8s.io"]
CLUSTERROLES = BY_KEY["clusterroles.rbac.authorization.k8s.io"]
CLUSTERROLEBINDINGS = BY_KEY["clusterrolebindings.rbac.authorization.k8s.io"]
SELFSUBJECTACCESSREVIEWS = BY_KEY["selfsubjectaccessreviews.authorization.k8s.io"]
SELFSUBJECTREVIEWS = BY_KEY["selfsubjectreviews.authentication.k8s.io"]
SELFSUBJECTRULESREVIEWS = BY_KEY["selfsubjectrulesreviews.authorization.k8s.io"]
NETWORKPOLICIES = BY_KEY["networkpolicies.networking.k8s.io"]
