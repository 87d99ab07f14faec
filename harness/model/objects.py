"""Typed views of the Kubernetes objects drills read (pure, no I/O).

Drills ask "which labels does the pod template carry" or "what CPU does the container
request", not ``sts["spec"]["template"]["metadata"]["labels"]``: a view answers in one name,
with the API's defaults applied, and the raw object stays available as ``raw`` for reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.model.disruption import ProbeTimes, SpreadRule, hostname_anti_affinity

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


def _labels(meta: Mapping[str, Any] | None) -> dict[str, str]:
    return dict((meta or {}).get("labels") or {})


def selector_string(labels: Mapping[str, str]) -> str:
    """``app=zk,tier=x``: a matchLabels map as a label selector query."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


@dataclass(frozen=True)
class ContainerView:
    """One container of a pod template or pod spec, and its index in the list."""

    name: str
    index: int
    raw: Mapping[str, Any]

    @property
    def command_line(self) -> str:
        return " ".join([*(self.raw.get("command") or []), *(self.raw.get("args") or [])])

    @property
    def cpu_request(self) -> str | None:
        value = ((self.raw.get("resources") or {}).get("requests") or {}).get("cpu")
        return None if value is None else str(value)

    def probe(self, kind: str) -> ProbeTimes | None:
        """``liveness``/``readiness``/``startup`` probe timings, or None when it has none."""
        return ProbeTimes.of(self.raw.get(f"{kind}Probe"))

    def probe_handler(self, kind: str) -> str | None:
        """``exec: zookeeper-ready 2181``, ``tcpSocket :2181``, ``httpGet :8080/x``... or None."""
        probe = self.raw.get(f"{kind}Probe")
        if not probe:
            return None
        if "exec" in probe:
            return "exec: " + " ".join(str(w) for w in (probe["exec"] or {}).get("command") or [])
        for handler in ("tcpSocket", "httpGet", "grpc"):
            if handler in probe:
                spec = probe[handler] or {}
                return f"{handler} :{spec.get('port', '?')}{spec.get('path', '')}"
        return "unknown handler"

    @property
    def read_only_root(self) -> bool:
        return bool((self.raw.get("securityContext") or {}).get("readOnlyRootFilesystem"))

    def cpu_request_patch(self, value: str) -> list[dict[str, Any]]:
        """The JSON patch (RFC 6902) that sets this container's CPU request in a StatefulSet:
        the tutorial's ``replace`` where a request exists, else an ``add`` of the missing
        part (``replace`` of an absent member is a 422; the official image's example
        requests nothing)."""
        base = f"/spec/template/spec/containers/{self.index}/resources"
        resources = self.raw.get("resources")
        if resources is None:
            return [{"op": "add", "path": base, "value": {"requests": {"cpu": value}}}]
        if resources.get("requests") is None:
            return [{"op": "add", "path": f"{base}/requests", "value": {"cpu": value}}]
        op = "replace" if self.cpu_request is not None else "add"
        return [{"op": op, "path": f"{base}/requests/cpu", "value": value}]


def container_of(pod_spec: Mapping[str, Any], name: str) -> ContainerView:
    """The named container (or the only one); ``ValueError`` when there is no such one."""
    containers = list(pod_spec.get("containers") or [])
    for i, c in enumerate(containers):
        if c.get("name") == name:
            return ContainerView(name, i, c)
    if len(containers) == 1:
        return ContainerView(str(containers[0].get("name")), 0, containers[0])
    raise ValueError(f"no container {name!r} in the pod spec")


@dataclass(frozen=True)
class StatefulSetView:
    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.raw["metadata"]["name"])

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.raw.get("spec") or {}

    @property
    def replicas(self) -> int:
        return int(self.spec.get("replicas", 1))

    @property
    def template(self) -> Mapping[str, Any]:
        return self.spec.get("template") or {}

    @property
    def template_labels(self) -> dict[str, str]:
        return _labels(self.template.get("metadata"))

    @property
    def selector_labels(self) -> dict[str, str]:
        return dict((self.spec.get("selector") or {}).get("matchLabels") or {})

    @property
    def service_name(self) -> str:
        return str(self.spec.get("serviceName") or "")

    @property
    def pod_management_policy(self) -> str:
        return str(self.spec.get("podManagementPolicy") or "OrderedReady")

    @property
    def update_strategy(self) -> str:
        return str((self.spec.get("updateStrategy") or {}).get("type") or "RollingUpdate")

    @property
    def uid(self) -> str:
        return str(self.raw["metadata"].get("uid") or "")

    def container(self, name: str) -> ContainerView:
        return container_of(self.template.get("spec") or {}, name)

    def anti_affinity(self) -> SpreadRule:
        """Whether a required hostname anti-affinity term selects the template's own pods."""
        return hostname_anti_affinity(self.template)


@dataclass(frozen=True)
class NodeView:
    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.raw["metadata"]["name"])

    @property
    def cordoned(self) -> bool:
        return bool((self.raw.get("spec") or {}).get("unschedulable"))

    @property
    def tainted(self) -> list[str]:
        """Taints that keep ordinary pods off (NoSchedule/NoExecute), cordon's own aside."""
        return [f"{t.get('key')}:{t.get('effect')}" for t in
                (self.raw.get("spec") or {}).get("taints") or []
                if t.get("effect") in ("NoSchedule", "NoExecute")
                and t.get("key") != UNSCHEDULABLE_TAINT]

    @property
    def schedulable(self) -> bool:
        """Neither cordoned nor tainted (a kind or kubeadm control plane is tainted)."""
        return not self.cordoned and not self.tainted


@dataclass(frozen=True)
class BudgetView:
    """A PodDisruptionBudget: its limit as ``kubectl get pdb`` prints it, and its status."""

    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.raw["metadata"]["name"])

    @property
    def max_unavailable(self) -> str | None:
        value = (self.raw.get("spec") or {}).get("maxUnavailable")
        return None if value is None else str(value)

    @property
    def min_available(self) -> str | None:
        value = (self.raw.get("spec") or {}).get("minAvailable")
        return None if value is None else str(value)

    @property
    def disruptions_allowed(self) -> int | None:
        value = (self.raw.get("status") or {}).get("disruptionsAllowed")
        return None if value is None else int(value)

    def allowed_when_healthy(self, replicas: int) -> int:
        """``disruptionsAllowed`` once all ``replicas`` pods are healthy, as the disruption
        controller computes it: a percentage is scaled and rounded up (both fields)."""
        spec = self.raw.get("spec") or {}
        if spec.get("maxUnavailable") is not None:
            return max(0, min(replicas, _scaled(spec["maxUnavailable"], replicas)))
        if spec.get("minAvailable") is not None:
            return max(0, replicas - _scaled(spec["minAvailable"], replicas))
        return replicas  # neither set: nothing is desired healthy, every pod may go

    def describe(self) -> str:
        limit = (f"maxUnavailable {self.max_unavailable}" if self.max_unavailable is not None
                 else f"minAvailable {self.min_available}")
        return f"pdb/{self.name} ({limit})"


def _scaled(value: int | str, total: int) -> int:
    """An IntOrString against ``total``: ``"50%"`` of 3 is 2 (rounded up), ``1`` is 1."""
    if isinstance(value, str) and value.endswith("%"):
        return -(-int(value[:-1]) * total // 100)
    return int(value)


@dataclass(frozen=True)
class ServiceView:
    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.raw["metadata"]["name"])

    @property
    def headless(self) -> bool:
        return (self.raw.get("spec") or {}).get("clusterIP") == "None"

    @property
    def selector(self) -> dict[str, str]:
        return dict((self.raw.get("spec") or {}).get("selector") or {})
