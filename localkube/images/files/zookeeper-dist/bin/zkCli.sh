#!/usr/bin/env bash
# zkCli.sh [-server host:port] [command args...]: the ZooKeeper command-line client.
# With a command it runs it and exits (`zkCli.sh create /hello world`); without one it
# reads commands from standard input. Client logging goes to stderr at WARN so standard
# output carries only results.

. "$(dirname "$(readlink -f "$0")")/zkEnv.sh"
shift "$LOCALKUBE_SHIFT"

CLI_LOG4J="$ZOOKEEPER_PREFIX/lib/localkube/log4j-cli.properties"
# shellcheck disable=SC2086
exec "$JAVA" "-Dzookeeper.log.dir=$ZOO_LOG_DIR" "-Dlog4j.configuration=file:$CLI_LOG4J" \
    -cp "$CLASSPATH" $CLIENT_JVMFLAGS $JVMFLAGS $LOCALKUBE_JVMFLAGS \
    org.apache.zookeeper.ZooKeeperMain "$@"
