"""Connect to a cluster from a kubeconfig and context; the ``Cluster`` facade drills use.

``connect`` turns every way a connection can be wrong into one ``ConfigError`` line that
says what to fix: an unreadable or malformed kubeconfig, a context it does not contain
(listing those it does), an API server that does not answer (naming its URL), credentials
it refuses, a namespace that does not exist. It is the same for localkube (whose kubeconfig
``localkube up`` writes) and for kind, GKE or EKS.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import yaml
from kubernetes import config as kube_config
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException

from harness.errors import ClusterError, ConfigError
from harness.kube import apply as apply_mod
from harness.kube import drain as drain_mod
from harness.kube import exec as exec_mod
from harness.kube import logs as logs_mod
from harness.kube import portforward as pf_mod
from harness.kube.objects import Objects
from harness.kube.transport import ApiError, Transport
from harness.kube.watch import PodWatcher

REACHABILITY_TIMEOUT = 10.0


def load_api_client(kubeconfig: Path | None, context: str | None) -> tuple[ApiClient, str, str]:
    """An ``ApiClient`` for ``context`` (or the current one); also its name and the file."""
    where = str(kubeconfig) if kubeconfig else os.environ.get("KUBECONFIG") or "~/.kube/config"
    if kubeconfig is not None:
        _check_readable(kubeconfig)
    elif not os.environ.get("KUBECONFIG") and not Path(where).expanduser().is_file():
        raise ConfigError(
            f"no kubeconfig at {where}",
            hint="pass --kubeconfig=PATH or set KUBECONFIG, or use --cluster=local",
        )
    file_arg = str(kubeconfig) if kubeconfig else None
    try:
        contexts, current = kube_config.list_kube_config_contexts(config_file=file_arg)
    except (ConfigException, OSError, yaml.YAMLError, TypeError, KeyError) as exc:
        raise ConfigError(f"cannot read kubeconfig {where}: {_one_line(exc)}") from exc
    names = [str(c.get("name")) for c in contexts or []]
    chosen = context or (current or {}).get("name")
    if not chosen or chosen not in names:
        what = f"context {chosen!r} is not in" if chosen else "no context given and none current in"
        raise ConfigError(
            f"{what} kubeconfig {where}; available: {', '.join(names) or '(none)'}",
            hint="pass --context=<one of them>",
        )
    configuration = Configuration()
    try:
        kube_config.load_kube_config(
            config_file=file_arg,
            context=chosen,
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"kubeconfig {where}, context {chosen!r}: {_one_line(exc)}") from exc
    return ApiClient(configuration), chosen, where


def connect(
    kubeconfig: Path | None,
    context: str | None,
    namespace: str,
    *,
    create_namespace: bool = False,
    local: bool = False,
) -> Cluster:
    """A checked ``Cluster``: the API answers, accepts the credentials, has the namespace."""
    api_client, chosen, where = load_api_client(kubeconfig, context)
    transport = Transport(api_client)
    try:
        transport.request("GET", "/version", timeout=REACHABILITY_TIMEOUT)
    except ApiError as exc:
        transport.close()
        raise ConfigError(
            f"the Kubernetes API at {transport.server} refused context {chosen!r}: "
            f"{exc.status} {exc.reason}",
            hint=f"check the credentials of context {chosen!r} in {where}",
        ) from exc
    except ClusterError as exc:
        transport.close()
        raise ConfigError(
            f"cannot reach the Kubernetes API at {transport.server} "
            f"(context {chosen!r}): {_after_colon(exc)}",
            hint="is the cluster running and the kubeconfig current?",
        ) from exc
    cluster = Cluster(transport, namespace, context=chosen, kubeconfig=where, local=local)
    if not cluster.namespace_exists():
        if not create_namespace:
            cluster.close()
            raise ConfigError(
                f"namespace {namespace!r} does not exist on context {chosen!r}",
                hint=f"kubectl create namespace {namespace}, or pass --namespace",
            )
        cluster.create_namespace()
    return cluster


class Cluster(Objects):
    """Everything a drill does to the cluster, in one object bound to one namespace."""

    def __init__(
        self,
        transport: Transport,
        namespace: str,
        *,
        context: str = "",
        kubeconfig: str = "",
        local: bool = False,
    ) -> None:
        super().__init__(transport, namespace)
        self.context = context
        self.kubeconfig = kubeconfig
        self.local = local

    @property
    def server(self) -> str:
        return self.transport.server

    def describe(self) -> str:
        kind = "localkube" if self.local else "kube"
        return f"{kind} {self.server} (context {self.context}, namespace {self.namespace})"

    def apply(self, manifest: apply_mod.Manifest) -> list[apply_mod.Applied]:
        """Server-side apply every document (field manager ``zkdrill``, force)."""
        return apply_mod.apply_manifest(self.transport, manifest, self.namespace)

    def exec(
        self,
        pod: str,
        command: Sequence[str],
        *,
        container: str | None = None,
        timeout: float = exec_mod.DEFAULT_TIMEOUT,
    ) -> exec_mod.ExecResult:
        """``kubectl exec POD -- COMMAND``: exit code, stdout and stderr."""
        return exec_mod.run(
            self.transport, self.namespace, pod, command, container=container, timeout=timeout
        )

    def logs(
        self,
        pod: str,
        *,
        container: str | None = None,
        tail: int | None = None,
        previous: bool = False,
    ) -> str:
        """``kubectl logs POD [--tail N] [--previous]``."""
        return logs_mod.read(
            self.transport, self.namespace, pod, container=container, tail=tail, previous=previous
        )

    def port_forward(self, pod: str, port: int) -> AbstractContextManager[int]:
        """A local relay to ``pod:port`` for the ``with`` body; yields the local port."""
        return pf_mod.forward(self.transport, self.namespace, pod, port)

    def relay(self, pod: str, port: int) -> pf_mod.Relay:
        """A started relay that lives until ``close()`` (follows the pod by name)."""
        opener = pf_mod.kube_opener(self.transport, self.namespace, pod, port)
        return pf_mod.Relay(opener, name=f"pf {pod}:{port}").start()

    def watch_pods(self, selector: str, **kwargs: Any) -> PodWatcher:
        """A started background watcher of the pods matching ``selector``."""
        watcher = PodWatcher(self.transport, self.namespace, selector, **kwargs)
        watcher.start()
        return watcher

    def try_evict(self, pod: str) -> drain_mod.EvictionAnswer:
        """One ``pods/eviction`` attempt; a PDB refusal (429) is an answer, not an error."""
        return drain_mod.try_evict(self.transport, self.namespace, pod)

    def close(self) -> None:
        self.transport.close()


def _check_readable(path: Path) -> None:
    try:
        text = path.expanduser().read_text()
    except OSError as exc:
        raise ConfigError(
            f"cannot read kubeconfig {path}: {exc.strerror or exc}",
            hint="pass --kubeconfig=<a readable file>",
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"kubeconfig {path} is not YAML: {_one_line(exc)}") from exc
    if not isinstance(data, dict) or not data.get("contexts"):
        raise ConfigError(f"kubeconfig {path} has no contexts", hint="is this a kubeconfig file?")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _after_colon(exc: BaseException) -> str:
    """``GET https://x/version: connection refused`` -> ``connection refused``."""
    return str(exc).rsplit(": ", 1)[-1]
