#!/bin/bash
# entrypoint.sh of bitnami/zookeeper (localkube): copy the default configuration into
# the (possibly empty, volume-backed) conf directory without overwriting, run setup.sh
# when the command is run.sh, then exec the command.
set -o errexit -o nounset -o pipefail
. /opt/bitnami/scripts/libzookeeper.sh
. /opt/bitnami/scripts/zookeeper-env.sh

info ""
info "Welcome to the Bitnami zookeeper container (localkube recipe, ZooKeeper from Debian)"
info ""
cp -nr "$ZOO_DEFAULT_CONF_DIR"/. "$ZOO_CONF_DIR"

if [[ "$*" = *"/run.sh"* ]]; then
    info "** Starting ZooKeeper setup **"
    /opt/bitnami/scripts/zookeeper/setup.sh
    info "** ZooKeeper setup finished! **"
fi
echo ""
exec "$@"
