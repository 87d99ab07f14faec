#!/bin/bash
# setup.sh of bitnami/zookeeper (localkube): validate the ZOO_* settings, then generate
# zoo.cfg and java.env and write myid on first boot.
set -o errexit -o nounset -o pipefail
. /opt/bitnami/scripts/libzookeeper.sh
. /opt/bitnami/scripts/zookeeper-env.sh

zookeeper_validate
mkdir -p "$ZOO_DATA_DIR" "$ZOO_CONF_DIR" "$ZOO_LOG_DIR"
[[ -n "$ZOO_DATA_LOG_DIR" ]] && mkdir -p "$ZOO_DATA_LOG_DIR"
zookeeper_initialize
