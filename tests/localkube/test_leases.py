"""coordination.k8s.io/v1 Leases: what a harness run needs to own one (CRUD, watch, the
`kubectl get leases` columns) and the MicroTime format kube-apiserver insists on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from kubernetes import client, watch

pytestmark = pytest.mark.slow

MERGE = {"Content-Type": "application/merge-patch+json"}


def lease(name: str, holder: str, when: str) -> dict:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 30,
                     "acquireTime": when, "renewTime": when, "leaseTransitions": 0}}


def test_lease_crud_through_the_python_client(api, namespace) -> None:
    leases = client.CoordinationV1Api(api)
    when = datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=UTC)
    body = client.V1Lease(metadata=client.V1ObjectMeta(name="zkdrill-run"),
                          spec=client.V1LeaseSpec(holder_identity="run-1",
                                                  lease_duration_seconds=30,
                                                  acquire_time=when, renew_time=when))
    created = leases.create_namespaced_lease(namespace, body)
    assert created.spec.renew_time == when and created.spec.holder_identity == "run-1"
    raw = leases.read_namespaced_lease("zkdrill-run", namespace, _preload_content=False)
    assert json.loads(raw.data)["spec"]["renewTime"] == "2026-12-07T12:00:00.123456Z"
    created.spec.renew_time = when.replace(second=10)
    renewed = leases.replace_namespaced_lease("zkdrill-run", namespace, created)
    assert renewed.spec.renew_time == when.replace(second=10)
    patched = leases.patch_namespaced_lease("zkdrill-run", namespace,
                                            {"spec": {"holderIdentity": "run-2"}})
    assert patched.spec.holder_identity == "run-2"
    names = [i.metadata.name for i in leases.list_namespaced_lease(namespace).items]
    assert names == ["zkdrill-run"]
    leases.delete_namespaced_lease("zkdrill-run", namespace)
    assert leases.list_namespaced_lease(namespace).items == []


def test_lease_watch(api, control_plane, namespace) -> None:
    leases = client.CoordinationV1Api(api)
    rv = leases.list_namespaced_lease(namespace).metadata.resource_version
    path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    assert control_plane.request(
        "POST", path, lease("l1", "a", "2026-12-07T12:00:00.000000Z")).status == 201
    assert control_plane.request("PATCH", f"{path}/l1", {"spec": {"holderIdentity": "b"}},
                                 headers=MERGE).status == 200
    seen = []
    for event in watch.Watch().stream(leases.list_namespaced_lease, namespace,
                                      resource_version=rv, timeout_seconds=5):
        seen.append((event["type"], event["object"].spec.holder_identity))
        if len(seen) == 2:
            break
    assert seen == [("ADDED", "a"), ("MODIFIED", "b")]


def test_kubectl_get_leases_shows_the_holder(control_plane, kubectl, namespace) -> None:
    path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    control_plane.request("POST", path, lease("zkdrill", "run-7", "2026-12-07T12:00:00.500000Z"))
    rows = kubectl("-n", namespace, "get", "leases").stdout.splitlines()
    assert rows[0].split() == ["NAME", "HOLDER", "AGE"]
    assert rows[1].split()[:2] == ["zkdrill", "run-7"]
    yaml_out = kubectl("-n", namespace, "get", "lease", "zkdrill", "-o", "yaml").stdout
    assert "renewTime: \"2026-12-07T12:00:00.500000Z\"" in yaml_out


@pytest.mark.parametrize(("when", "detail"), [
    # what Python's isoformat() gives for a whole second
    ("2026-12-07T12:00:00+00:00", 'cannot parse "+00:00" as ".000000"'),
    ("2026-12-07T12:00:00Z", 'cannot parse "Z" as ".000000"'),
    ("2026-12-07T12:00:00.123456789Z", 'cannot parse "789Z" as "Z07:00"'),
])
def test_micro_time_needs_six_fractional_digits(control_plane, namespace, when: str,
                                                detail: str) -> None:
    path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    reply = control_plane.request("POST", path, lease("bad", "x", when))
    assert reply.status == 400
    assert reply.json()["message"] == (
        f'Lease in version "v1" cannot be handled as a Lease: parsing time "{when}" as '
        f'"2006-01-02T15:04:05.000000Z07:00": {detail}')


def test_micro_time_is_stored_in_utc(control_plane, namespace) -> None:
    path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    reply = control_plane.request("POST", path,
                                  lease("tz", "x", "2026-12-07T13:00:00.000001+01:00"))
    assert reply.status == 201
    assert reply.json()["spec"]["acquireTime"] == "2026-12-07T12:00:00.000001Z"


def test_lease_validation(control_plane, namespace) -> None:
    path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    body = lease("zero", "x", "2026-12-07T12:00:00.000000Z")
    body["spec"]["leaseDurationSeconds"] = 0
    reply = control_plane.request("POST", path, body)
    assert (reply.status, reply.json()["message"]) == (
        422, 'Lease.coordination.k8s.io "zero" is invalid: spec.leaseDurationSeconds: '
             "Invalid value: 0: must be greater than 0")
