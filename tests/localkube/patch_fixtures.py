"""Shared inputs for the patch tests (`test_patch_*.py`).

The JSON patch, merge patch, strategic merge patch and apply modules all patch the same
object (the tutorial's ZooKeeper StatefulSet), expect the same generic 422 message, and the
property tests draw from the same JSON documents; they live here so no module defines them
twice.
"""

from __future__ import annotations

from hypothesis import strategies as st

REJECTED = "the server rejected our request due to an error in our request"


def zk_statefulset() -> dict:
    """The tutorial's ZooKeeper StatefulSet, a fresh copy on every call."""
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "zk", "namespace": "default", "labels": {"app": "zk"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "zk"}},
            "template": {
                "metadata": {"labels": {"app": "zk"}},
                "spec": {
                    "containers": [
                        {
                            "name": "kubernetes-zookeeper",
                            "image": "zk:1",
                            "command": ["sh", "-c", "start-zookeeper --servers=3"],
                            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
                            "ports": [
                                {"containerPort": 2181, "name": "client"},
                                {"containerPort": 2888, "name": "server"},
                            ],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "volumeMounts": [{"name": "datadir", "mountPath": "/var/lib/zk"}],
                        }
                    ],
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                    "volumes": [{"name": "cache", "emptyDir": {}}],
                },
            },
        },
    }


def container(obj: dict, i: int = 0) -> dict:
    """The i-th container of a StatefulSet's pod template."""
    return obj["spec"]["template"]["spec"]["containers"][i]


# Hypothesis strategies: JSON documents whose keys need JSON-pointer escaping ("/" and "~").
json_keys = st.text(alphabet="abc/~", min_size=1, max_size=4)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(json_keys, children, max_size=3)
    ),
    max_leaves=12,
)
json_docs = st.dictionaries(json_keys, json_values, max_size=4)
