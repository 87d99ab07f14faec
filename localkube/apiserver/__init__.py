"""localkube's Kubernetes API server (aiohttp), one module per job.

- `app`: the application, authentication and dispatch, lifecycle (`ApiServer`)
- `auth`: bearer tokens; `/healthz`, `/livez`, `/readyz` and `/version` are public, as on a
  kubeadm cluster (system:public-info-viewer); discovery and OpenAPI need the token
- `routing`: paths to resources (RequestInfoFactory rules)
- `negotiation`, `protobuf`, `shapes`: what came in (JSON, YAML, protobuf for the kinds
  kubectl's typed clients send, Go-like type checks) and what goes out (JSON, YAML, Table,
  PartialObjectMetadata)
- `handlers`, `watch`, `subresources`: the verbs; `discovery`, `openapi`: what clients read
  to find them; `printing` + `tables`: `kubectl get` columns; `responses`: bytes and Status
- `streaming` (exec, log, portforward) is routed to lazily

Served over TLS only: kubectl sends a kubeconfig's bearer token over TLS only.
"""
