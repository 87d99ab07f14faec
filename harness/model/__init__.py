"""Pure logic of the harness: no I/O, no ``kubernetes`` or ``kazoo`` imports.

Everything here takes plain data (API dicts, four-letter-word text, zoo.cfg text, numbers)
and returns plain data, so it is unit-tested without a cluster and reused by the kube and zk
layers, the conditions and the reports.

- ``pod_status``: kubectl's READY / STATUS / RESTARTS columns and ``PodSnapshot``
- ``ordinals``: StatefulSet pod names, ordinals, myid, FQDNs, expected ``server.N`` lines
- ``rollout``: StatefulSet rollout status and update order
- ``fourletter``: parsing ``srvr`` / ``stat`` / ``mntr`` / ``ruok`` replies
- ``adminserver``: the AdminServer's JSON replies as ``fourletter``'s types
- ``quorum``: quorum size and whether a set of server modes is a healthy ensemble
- ``zoocfg``: parsing zoo.cfg (and the ``conf`` word's reply)
- ``progress``: the ``Progress`` a wait condition returns
- ``drain``: kubectl drain's pod filters and the record of a drain (evicted, refused, why)
- ``disruption``: probe budgets, restart traces, rolling-update order, anti-affinity checks
- ``objects``: typed views of the StatefulSet, nodes, budgets and services drills read
- ``bystanders``: which pods a step changed that it did not declare
- ``ledger``: the workload's operations (ok / fail / indeterminate), lost and diverged writes
- ``linearizable``: a linearizability checker (Wing & Gong with memoisation), CAS register model
- ``availability``: write unavailability from the ledger, budgets and their judgement
"""
