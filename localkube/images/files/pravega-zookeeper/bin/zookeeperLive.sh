#!/usr/bin/env bash
# zookeeperLive.sh (localkube's pravega/zookeeper): the liveness probe, "ruok" -> "imok".
source /conf/env.sh
source /usr/local/bin/zookeeperFunctions.sh
[[ "$(ruok)" == "imok" ]]
