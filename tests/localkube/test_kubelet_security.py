"""The kubelet's runAsNonRoot check (kuberuntime verifyRunAsNonRoot), without containers.

Checks: the container's securityContext wins over the pod's; an image user of 0 or none is
root; a named image user cannot be verified; an explicit runAsUser decides alone.
"""

from __future__ import annotations

import pytest

from localkube.kubelet.env import ConfigError
from localkube.kubelet.security import effective, verify_run_as_non_root

POD_REF = '(pod: "zk-0_default(u-1)", container: zookeeper)'


def pod(pod_sc: dict | None = None) -> dict:
    return {"metadata": {"name": "zk-0", "namespace": "default", "uid": "u-1"},
            "spec": {"securityContext": pod_sc or {}}}


def container(sc: dict | None = None) -> dict:
    return {"name": "zookeeper", "securityContext": sc or {}}


def test_container_context_wins_over_the_pod() -> None:
    assert effective(pod({"runAsUser": 1}), container({"runAsUser": 2}), "runAsUser") == 2
    assert effective(pod({"runAsUser": 1}), container(), "runAsUser") == 1
    assert effective(pod(), container(), "runAsUser") is None


@pytest.mark.parametrize("image_user", [None, "", "0", "0:0"])
def test_an_image_running_as_root_is_refused(image_user: str | None) -> None:
    with pytest.raises(ConfigError) as err:
        verify_run_as_non_root(pod({"runAsNonRoot": True}), container(), image_user)
    assert str(err.value) == f"container has runAsNonRoot and image will run as root {POD_REF}"


def test_a_named_image_user_cannot_be_verified() -> None:
    with pytest.raises(ConfigError) as err:
        verify_run_as_non_root(pod(), container({"runAsNonRoot": True}), "zookeeper")
    assert str(err.value) == ("container has runAsNonRoot and image has non-numeric user "
                              f"(zookeeper), cannot verify user is non-root {POD_REF}")


def test_run_as_user_decides_when_set() -> None:
    verify_run_as_non_root(pod({"runAsNonRoot": True, "runAsUser": 1001}), container(), None)
    with pytest.raises(ConfigError, match="container's runAsUser breaks non-root policy"):
        verify_run_as_non_root(pod({"runAsNonRoot": True}), container({"runAsUser": 0}),
                               "1001")


def test_without_run_as_non_root_anything_goes() -> None:
    verify_run_as_non_root(pod(), container(), None)
    verify_run_as_non_root(pod({"runAsNonRoot": False}), container(), "0")
    verify_run_as_non_root(pod(), container({"runAsNonRoot": True}), "1001")
