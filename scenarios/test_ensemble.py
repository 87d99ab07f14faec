"""Creating a ZooKeeper ensemble, facilitating leader election, achieving consensus.

Tutorial sections: "Creating a ZooKeeper ensemble", "Facilitating leader election",
"Achieving consensus". What this drill checks:

- the StatefulSet controller created zk-0, zk-1, zk-2 in ordinal order, each Running and
  Ready before the next was created (read from the watched pod timeline of the deployment);
  not applicable (skipped, saying why) under ``podManagementPolicy: Parallel``;
- ``hostname`` in each pod prints its pod name, zk-0 .. zk-2;
- ``myid`` holds the ordinal plus one, 1 .. 3;
- ``hostname -f`` prints zk-N.zk-hs.<namespace>.svc.cluster.local;
- zoo.cfg (with its dynamicConfigFile, if any) lists exactly server.1 .. server.3, each
  with those FQDNs and ports 2888:3888;
- exactly one server is the leader, the others follow (``srvr`` on each).
"""

from __future__ import annotations

import pytest

from harness.drill import Drill, creation_order, expected_server_lines

pytestmark = pytest.mark.ensemble


def test_pods_created_in_ordinal_order(drill: Drill) -> None:
    policy = drill.statefulset().pod_management_policy
    if policy != "OrderedReady":
        pytest.skip(f"not applicable: statefulset {drill.target.statefulset} has "
                    f"podManagementPolicy {policy}, which creates its pods all at once")
    with drill.step(f"kubectl get pods -w -l {drill.target.selector}, as recorded while the "
                    "ensemble was created"):
        if drill.creation is None:
            pytest.skip(
                "the ensemble's pods existed before this session (--use-existing or a kept "
                "ensemble), so their creation was not watched"
            )
        order = creation_order(drill.creation, drill.names)
        for line in order.evidence:
            drill.note("creation", order.observed, line)
        assert order.observed, "the creation of some pods was not observed: " + "; ".join(
            order.evidence
        )
        assert not order.problems, "pods were not created in ordinal order: " + "; ".join(
            order.problems
        )


def test_hostnames_are_the_pod_names(drill: Drill) -> None:
    for member in drill.target.members:
        with drill.step(f"kubectl exec {member.pod} -- hostname"):
            result = drill.exec(member.pod, ["hostname"])
            assert result.ok, result.describe()
            assert result.stdout.strip() == member.pod, (
                f"{member.pod} says its hostname is {result.stdout.strip()!r}"
            )


def test_myid_is_the_ordinal_plus_one(drill: Drill) -> None:
    for member in drill.target.members:
        with drill.step(f"kubectl exec {member.pod} -- cat {drill.profile.myid_path}"):
            result = drill.exec(member.pod, ["cat", drill.profile.myid_path])
            assert result.ok, result.describe()
            assert result.stdout.strip() == str(member.myid), (
                f"{member.pod} has myid {result.stdout.strip()!r}, expected {member.myid} "
                f"(ordinal {member.ordinal} + 1)"
            )


def test_fqdns_resolve_in_the_headless_service(drill: Drill) -> None:
    for member in drill.target.members:
        with drill.step(f"kubectl exec {member.pod} -- hostname -f"):
            result = drill.exec(member.pod, ["hostname", "-f"])
            assert result.ok, result.describe()
            assert result.stdout.strip() == member.fqdn, (
                f"{member.pod}'s FQDN is {result.stdout.strip()!r}, expected {member.fqdn}"
            )


def test_zoo_cfg_lists_every_server(drill: Drill) -> None:
    target, profile = drill.target, drill.profile
    expected = expected_server_lines(
        target.statefulset,
        target.replicas,
        target.service,
        target.namespace,
        drill.settings.cluster_domain,
        profile.server_port,
        profile.election_port,
    )
    for pod in drill.names:
        with drill.step(f"kubectl exec {pod} -- cat {profile.conf_path}"):
            lines = drill.zoo_cfg(pod).server_lines()
            flag = target.start_flags.get("servers")
            because = f"; the start command has --servers={flag}" if flag else ""
            assert lines == expected, (
                f"{pod}'s zoo.cfg lists {len(lines)} servers ({', '.join(lines) or 'none'}), "
                f"expected the {target.replicas} of the StatefulSet ({', '.join(expected)})"
                f"{because}"
            )


def test_exactly_one_leader(drill: Drill) -> None:
    with drill.step("srvr on every server: one leader, the others followers"):
        health = drill.zk.health()
        assert health.healthy, (
            f"not one leader and {len(drill.zk.pods) - 1} followers: {health.detail}")
        assert health.leader in drill.names
        assert sorted(health.followers) == sorted(set(drill.names) - {health.leader})
