"""A container's environment as the kubelet builds it (kubelet_pods.go makeEnvironmentVariables).

Order and precedence: service links (`<SVC>_SERVICE_HOST`, docker-link style `<SVC>_PORT…`,
for the ClusterIP services of the pod's namespace when `enableServiceLinks`), then
`envFrom` sources, then `env` entries; `$(VAR)` references to variables defined earlier
are expanded in `env` values and in `command`/`args` (`$$` escapes). A missing ConfigMap
or key that is not optional is a `CreateContainerConfigError`.
"""

from __future__ import annotations

import re

from localkube import resources as R
from localkube.store import Store


class ConfigError(Exception):
    """The container cannot be configured (waiting reason CreateContainerConfigError)."""


_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: unknown references stay as they are."""
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))

    return _REF.sub(sub, text)


def service_links(store: Store, namespace: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for svc, _ in store.scan(R.SERVICES.key, namespace):
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        if not ip or ip == "None":
            continue
        name = svc["metadata"]["name"].upper().replace("-", "_")
        ports = spec.get("ports") or []
        if not ports:
            continue
        out[f"{name}_SERVICE_HOST"] = ip
        out[f"{name}_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                pname = port["name"].upper().replace("-", "_")
                out[f"{name}_SERVICE_PORT_{pname}"] = str(port["port"])
        first = ports[0]
        out[f"{name}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
        for port in ports:
            proto = port.get("protocol", "TCP")
            prefix = f"{name}_PORT_{port['port']}_{proto.upper()}"
            out[prefix] = f"{proto.lower()}://{ip}:{port['port']}"
            out[prefix + "_PROTO"] = proto.lower()
            out[prefix + "_PORT"] = str(port["port"])
            out[prefix + "_ADDR"] = ip
    return out


def _field_ref(pod: dict, path: str, host_ip: str) -> str:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": status.get("hostIP") or host_ip,
        "status.hostIPs": status.get("hostIP") or host_ip,
        "status.podIP": status.get("podIP", ""),
        "status.podIPs": status.get("podIP", ""),
    }
    if path in simple:
        return str(simple[path])
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    return ""


def _config_map(store: Store, ns: str, ref: dict) -> dict[str, str] | None:
    cm = store.peek(R.CONFIGMAPS.key, ns, ref.get("name", ""))
    if cm is None:
        if ref.get("optional"):
            return None
        raise ConfigError(f'configmap "{ref.get("name", "")}" not found')
    return dict(cm.get("data") or {})


def build_env(store: Store, pod: dict, container: dict, pod_ip: str,
              host_ip: str) -> dict[str, str]:
    ns = pod["metadata"]["namespace"]
    env: dict[str, str] = {}
    if (pod.get("spec") or {}).get("enableServiceLinks", True):
        env.update(service_links(store, ns))
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            data = _config_map(store, ns, source["configMapRef"] or {})
            env.update({prefix + k: v for k, v in (data or {}).items()})
        elif "secretRef" in source and not (source["secretRef"] or {}).get("optional"):
            raise ConfigError(f'secret "{(source["secretRef"] or {}).get("name", "")}" not found')
    pod = {**pod, "status": {**(pod.get("status") or {}), "podIP": pod_ip}}
    for var in container.get("env") or []:
        name = var.get("name", "")
        if "valueFrom" not in var:
            env[name] = expand(str(var.get("value", "")), env)
            continue
        source = var["valueFrom"] or {}
        if "fieldRef" in source:
            env[name] = _field_ref(pod, (source["fieldRef"] or {}).get("fieldPath", ""), host_ip)
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"] or {}
            data = _config_map(store, ns, ref)
            if data is not None and ref.get("key") in data:
                env[name] = data[ref["key"]]
            elif data is not None and not ref.get("optional"):
                raise ConfigError(f"couldn't find key {ref.get('key')} in ConfigMap "
                                  f"{ns}/{ref.get('name')}")
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"] or {}
            if not ref.get("optional"):
                raise ConfigError(f'secret "{ref.get("name", "")}" not found')
        else:
            env[name] = ""  # resourceFieldRef: not modelled
    return env
