"""Pure logic of the harness: no I/O, no ``kubernetes`` or ``kazoo`` imports.

Everything here takes plain data (API dicts, four-letter-word text, zoo.cfg text, numbers)
and returns plain data, so it is unit-tested without a cluster and reused by the kube and zk
layers, the predicates and the reports.

- ``pod_status``: kubectl's READY / STATUS / RESTARTS columns and ``PodSnapshot``
- ``ordinals``: StatefulSet pod names, ordinals, myid, FQDNs, expected ``server.N`` lines
- ``rollout``: StatefulSet rollout status and update order
- ``fourletter``: parsing ``srvr`` / ``stat`` / ``mntr`` / ``ruok`` replies
- ``quorum``: quorum size and whether a set of server modes is a healthy ensemble
- ``zoocfg``: parsing zoo.cfg (and the ``conf`` word's reply)
- ``progress``: the ``Progress`` a wait condition returns
- ``drain``: kubectl drain's pod filters and the record of a drain (evicted, refused, why)
- ``disruption``: probe budgets, restart traces, rolling-update order, anti-affinity checks
"""
