"""ZooKeeper access: four-letter words, kazoo sessions, sentinel data checks, image profiles.

May do network I/O (TCP to a ZooKeeper client port, HTTP to its AdminServer); never imports
``kubernetes``. Servers are reached by ``Endpoint(host, port)``: a local port-forward relay
from the kube layer, or a direct address when running in-cluster; this package does not
care which.

- ``endpoint``: ``Endpoint`` (host, port) and parsing of ``host:port``
- ``fourletter``: ``ruok``/``srvr``/``mntr``/``stat`` over TCP, ``server_mode`` for quorum checks
- ``adminserver``: the same over the AdminServer's HTTP (``/commands/<word>``, JSON), for
  images that whitelist few words
- ``client``: kazoo session to exactly one server, always stopped and closed
- ``sentinels``: write known znodes once, verify them on every server after ``sync``
- ``profile``: image specifics (paths, process name, start flags) by profile name
- ``writer``: a client writing throughout a disruption (accepted writes, gaps, none lost)
"""
