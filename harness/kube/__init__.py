"""The only code that calls the Kubernetes API (and the only code importing ``kubernetes``).

Everything else in the harness sees plain dicts in the API's JSON shape (camelCase) and
``harness.model`` records such as ``PodSnapshot``; errors are ``harness.errors`` types with
the client's exception chained as the cause. The same code drives localkube and any real
cluster, because it only speaks the API.

- ``transport``: one authenticated HTTP request (the official client's ApiClient) -> dict
- ``client``: kubeconfig/context loading with one-line errors; the ``Cluster`` facade
- ``objects``: get/list/patch/delete of pods, statefulsets, PVCs, endpoints, PDBs, nodes...
- ``apply``: server-side apply of a multi-document manifest (field manager ``zkdrill``)
- ``watch``: a background pod watcher recording every transition (the pod timeline)
- ``exec`` / ``logs`` / ``portforward``: the streaming subresources
- ``drain``: cordon/uncordon, one eviction (``try_evict``), ``kubectl drain`` semantics
"""
