#!/usr/bin/env bash
# zkCli.sh [-server host:port] [command args...]: the ZooKeeper command-line client.
# With a command it runs it and exits (e.g. `zkCli.sh create /hello world`); without one
# it reads commands from standard input. Client logging goes to stderr at WARN so that
# standard output carries only the command's result.

. "$(dirname "$(readlink -f "$0")")/zkEnv.sh"

# shellcheck disable=SC2086
exec "$JAVA" "-Dzookeeper.log.dir=$ZOO_LOG_DIR" \
    "-Dlog4j.configuration=file:$ZOOKEEPER_PREFIX/conf/log4j-cli.properties" \
    -cp "$CLASSPATH" -Xmx128m $CLIENT_JVMFLAGS $JVMFLAGS_CLIENT $LOCALKUBE_JVMFLAGS \
    org.apache.zookeeper.ZooKeeperMain "$@"
