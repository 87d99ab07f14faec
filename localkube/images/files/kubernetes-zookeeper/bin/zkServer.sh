#!/usr/bin/env bash
# zkServer.sh {start-foreground|start|stop|status|print-cmd|version}: run or query the
# ZooKeeper server configured in $ZOOCFGDIR (default /opt/zookeeper/conf).

. "$(dirname "$(readlink -f "$0")")/zkEnv.sh"

MAIN=org.apache.zookeeper.server.quorum.QuorumPeerMain

server_cmd() {
    # shellcheck disable=SC2086
    echo "$JAVA" "-Dzookeeper.log.dir=$ZOO_LOG_DIR" "-Dzookeeper.root.logger=$ZOO_LOG4J_PROP" \
        -cp "$CLASSPATH" $JVMFLAGS $SERVER_JVMFLAGS $LOCALKUBE_JVMFLAGS \
        $LOCALKUBE_SERVER_FLAGS "$MAIN" "$ZOOCFG"
}

config_value() {
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$ZOOCFG" | tail -n 1
}

pid_file() {
    echo "$(config_value dataDir)/zookeeper_server.pid"
}

case "$1" in
    start-foreground)
        # shellcheck disable=SC2086
        exec "$JAVA" "-Dzookeeper.log.dir=$ZOO_LOG_DIR" \
            "-Dzookeeper.root.logger=$ZOO_LOG4J_PROP" \
            -cp "$CLASSPATH" $JVMFLAGS $SERVER_JVMFLAGS $LOCALKUBE_JVMFLAGS \
            $LOCALKUBE_SERVER_FLAGS "$MAIN" "$ZOOCFG"
        ;;
    start)
        echo "Using config: $ZOOCFG" >&2
        echo -n "Starting zookeeper ... "
        # shellcheck disable=SC2086
        nohup "$JAVA" "-Dzookeeper.log.dir=$ZOO_LOG_DIR" \
            "-Dzookeeper.root.logger=$ZOO_LOG4J_PROP" \
            -cp "$CLASSPATH" $JVMFLAGS $SERVER_JVMFLAGS $LOCALKUBE_JVMFLAGS \
            $LOCALKUBE_SERVER_FLAGS "$MAIN" "$ZOOCFG" > "$ZOO_LOG_DIR/zookeeper.out" 2>&1 < /dev/null &
        echo $! > "$(pid_file)" && echo STARTED
        ;;
    stop)
        echo "Using config: $ZOOCFG" >&2
        echo -n "Stopping zookeeper ... "
        if [ -f "$(pid_file)" ] && kill "$(cat "$(pid_file)")" 2>/dev/null; then
            rm -f "$(pid_file)"
            echo STOPPED
        else
            echo "no zookeeper to stop (could not find file $(pid_file))"
            exit 1
        fi
        ;;
    status)
        echo "Using config: $ZOOCFG" >&2
        port="$(config_value clientPort)"
        echo "Client port found: ${port:-2181}. Client address: localhost." >&2
        mode="$(echo srvr | nc -w 5 localhost "${port:-2181}" 2>/dev/null | sed -n 's/^Mode: //p')"
        if [ -z "$mode" ]; then
            echo "Error contacting service. It is probably not running." >&2
            exit 1
        fi
        echo "Mode: $mode"
        ;;
    print-cmd)
        server_cmd
        ;;
    version)
        # shellcheck disable=SC2086
        "$JAVA" -cp "$CLASSPATH" $LOCALKUBE_JVMFLAGS org.apache.zookeeper.version.VersionInfoMain
        ;;
    *)
        echo "Usage: $0 {start|start-foreground|stop|status|print-cmd|version}" >&2
        exit 1
        ;;
esac
