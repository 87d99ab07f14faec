"""Server-side apply of a multi-document manifest, as ``kubectl apply --server-side`` does.

``Manifest.load`` reads and checks the file before anything touches the cluster: a document
that is not YAML, not a mapping, or lacks apiVersion/kind/metadata.name is one
``ConfigError`` naming the file and the document number. ``--image`` overrides the ZooKeeper
container's image in every StatefulSet. ``apply_manifest`` PATCHes each object with
``application/apply-patch+yaml``, field manager ``zkdrill`` and ``force=true`` (the harness
owns the fields it applies), and reports which objects it created, so the session can delete
exactly those at the end.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigError
from harness.kube.objects import PATCH_TYPES, resolve_kind
from harness.kube.transport import ApiError, Transport

FIELD_MANAGER = "zkdrill"


@dataclass(frozen=True)
class Manifest:
    path: Path
    documents: tuple[dict[str, Any], ...]

    @classmethod
    def load(
        cls, path: Path, *, image: str | None = None, container: str | None = None
    ) -> Manifest:
        """Parse and check ``path``; with ``image``, set it on the StatefulSets' container."""
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(
                f"cannot read manifest {path}: {exc.strerror or exc}",
                hint="pass --manifest=<a readable YAML file>",
            ) from exc
        documents = tuple(_documents(path, text))
        if not documents:
            raise ConfigError(f"manifest {path} contains no objects")
        manifest = cls(Path(path), documents)
        return manifest if image is None else manifest.with_image(image, container)

    def with_image(self, image: str, container: str | None = None) -> Manifest:
        """A copy whose StatefulSets run ``image`` in ``container`` (or their only one)."""
        documents = copy.deepcopy(list(self.documents))
        for number, doc in enumerate(documents, start=1):
            if doc["kind"] != "StatefulSet":
                continue
            containers = (((doc.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
                "containers"
            ) or []
            chosen = [c for c in containers if c.get("name") == container] or (
                containers if len(containers) == 1 else []
            )
            if not chosen:
                raise ConfigError(
                    f"manifest {self.path}: document {number} (StatefulSet "
                    f"{doc['metadata']['name']}) has no container {container!r} for --image",
                    hint="use --zk-profile matching the manifest's container name",
                )
            chosen[0]["image"] = image
        return Manifest(self.path, tuple(documents))

    def find(self, kind: str, name: str | None = None) -> dict[str, Any] | None:
        """The first document of ``kind`` (named ``name`` when given)."""
        for doc in self.documents:
            if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name):
                return doc
        return None

    def statefulset(self, name: str | None = None) -> dict[str, Any]:
        found = self.find("StatefulSet", name)
        if found is None:
            raise ConfigError(
                f"manifest {self.path} has no StatefulSet" + (f" named {name!r}" if name else ""),
                hint="pass --statefulset=<its name>, or a manifest with the ZooKeeper StatefulSet",
            )
        return found


@dataclass(frozen=True)
class Applied:
    kind: str
    name: str
    api_version: str
    uid: str
    created: bool  # did not exist before this apply

    def describe(self) -> str:
        return f"{self.kind.lower()}/{self.name} {'created' if self.created else 'configured'}"


def apply_manifest(transport: Transport, manifest: Manifest, namespace: str) -> list[Applied]:
    """Apply every document in order (Services and PDB before the StatefulSet, as written)."""
    applied: list[Applied] = []
    for number, doc in enumerate(manifest.documents, start=1):
        kind = resolve_kind(transport, doc["apiVersion"], doc["kind"])
        name = doc["metadata"]["name"]
        body = copy.deepcopy(doc)
        doc_ns = body["metadata"].get("namespace")
        if kind.namespaced:
            if doc_ns and doc_ns != namespace:
                raise ConfigError(
                    f"manifest {manifest.path}: document {number} ({doc['kind']} {name}) is in "
                    f"namespace {doc_ns!r}, but the drills use {namespace!r}",
                    hint=f"pass --namespace={doc_ns} or remove metadata.namespace",
                )
            body["metadata"]["namespace"] = namespace
        path = kind.path(namespace, name)
        try:
            transport.request("GET", path)
            existed = True
        except ApiError as exc:
            if not exc.not_found:
                raise
            existed = False
        result = transport.request(
            "PATCH",
            path,
            query=[("fieldManager", FIELD_MANAGER), ("force", True)],
            body=body,
            content_type=PATCH_TYPES["apply"],
        )
        meta = result.get("metadata") or {}
        applied.append(
            Applied(doc["kind"], name, doc["apiVersion"], str(meta.get("uid") or ""), not existed)
        )
    return applied


def _documents(path: Path, text: str) -> Iterator[dict[str, Any]]:
    number = 0
    try:
        for number, doc in enumerate(yaml.safe_load_all(text), start=1):
            if doc is None:
                continue
            yield _checked(path, number, doc)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"manifest {path}: document {number + 1} is not valid YAML{where}: {problem}",
            hint="check the indentation and the '---' separators",
        ) from exc


def _checked(path: Path, number: int, doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ConfigError(
            f"manifest {path}: document {number} is a {type(doc).__name__}, not an object",
            hint="each document must be a Kubernetes object (apiVersion, kind, metadata)",
        )
    kind = doc.get("kind") or "?"
    missing = [f for f in ("apiVersion", "kind") if not isinstance(doc.get(f), str)]
    if not isinstance((doc.get("metadata") or {}).get("name"), str):
        missing.append("metadata.name")
    if missing:
        raise ConfigError(
            f"manifest {path}: document {number} ({kind}) has no {', '.join(missing)}",
            hint="each document needs apiVersion, kind and metadata.name",
        )
    return doc
