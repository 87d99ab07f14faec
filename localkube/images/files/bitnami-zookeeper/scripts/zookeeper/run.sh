#!/bin/bash
# run.sh of bitnami/zookeeper (localkube): the server in the foreground, as the daemon
# user when started as root.
set -o errexit -o nounset -o pipefail
. /opt/bitnami/scripts/libzookeeper.sh
. /opt/bitnami/scripts/zookeeper-env.sh

command=("$ZOO_BIN_DIR/zkServer.sh" start-foreground "$@")
info "** Starting ZooKeeper **"
if [[ "$(id -u)" = 0 ]]; then
    exec setpriv --reuid="$ZOO_DAEMON_USER" --regid="$ZOO_DAEMON_GROUP" --init-groups -- "${command[@]}"
fi
exec "${command[@]}"
