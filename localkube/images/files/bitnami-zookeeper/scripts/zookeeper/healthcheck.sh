#!/bin/bash
# healthcheck.sh of bitnami/zookeeper (localkube): "ruok" must be answered "imok" within
# ZOO_HC_TIMEOUT seconds (the chart's liveness and readiness probes).
set -o errexit -o nounset -o pipefail
. /opt/bitnami/scripts/libzookeeper.sh
. /opt/bitnami/scripts/zookeeper-env.sh
zookeeper_healthcheck
