#!/usr/bin/env bash
# zkServer.sh [--config DIR] {start-foreground|start|stop|restart|status|print-cmd|version}
# Runs or queries the ZooKeeper server configured in $ZOOCFGDIR/zoo.cfg (see zkEnv.sh).

. "$(dirname "$(readlink -f "$0")")/zkEnv.sh"
shift "$LOCALKUBE_SHIFT"

MAIN=org.apache.zookeeper.server.quorum.QuorumPeerMain

config_value() {
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$ZOOCFG" | tail -n 1
}

pid_file() {
    if [ -n "$ZOOPIDFILE" ]; then
        echo "$ZOOPIDFILE"
    else
        echo "$(config_value dataDir)/zookeeper_server.pid"
    fi
}

server_argv() {
    # shellcheck disable=SC2086
    set -- "$JAVA" "-Dzookeeper.log.dir=$ZOO_LOG_DIR" "-Dzookeeper.root.logger=$ZOO_LOG4J_PROP" \
        -cp "$CLASSPATH" $SERVER_JVMFLAGS $JVMFLAGS $LOCALKUBE_JVMFLAGS "$MAIN" "$ZOOCFG"
    printf '%s\n' "$@"
}

echo "ZooKeeper JMX enabled by default" >&2
echo "Using config: $ZOOCFG" >&2

case "$1" in
    start-foreground)
        mapfile -t argv < <(server_argv)
        exec "${argv[@]}"
        ;;
    start)
        echo -n "Starting zookeeper ... " >&2
        mkdir -p "$ZOO_LOG_DIR"
        mapfile -t argv < <(server_argv)
        nohup "${argv[@]}" > "$ZOO_LOG_DIR/zookeeper.out" 2>&1 < /dev/null &
        echo $! > "$(pid_file)" && echo STARTED >&2
        ;;
    stop)
        echo -n "Stopping zookeeper ... " >&2
        if [ -f "$(pid_file)" ] && kill "$(cat "$(pid_file)")" 2>/dev/null; then
            rm -f "$(pid_file)"
            echo STOPPED >&2
        else
            echo "no zookeeper to stop (could not find file $(pid_file))" >&2
            exit 1
        fi
        ;;
    status)
        port="$(config_value clientPort)"
        if [ -z "$port" ]; then
            # 3.5+ may give the client port in the server line (";2181") only.
            port="$(sed -n 's/^server\.[0-9]*=.*;\([0-9]*\)$/\1/p' "$ZOOCFG" | head -n 1)"
        fi
        echo "Client port found: ${port:-2181}. Client address: localhost." >&2
        mode="$(echo srvr | nc -q 1 -w 5 localhost "${port:-2181}" 2>/dev/null | sed -n 's/^Mode: //p')"
        if [ -z "$mode" ]; then
            echo "Error contacting service. It is probably not running." >&2
            exit 1
        fi
        echo "Mode: $mode"
        ;;
    print-cmd)
        server_argv | tr '\n' ' '
        echo
        ;;
    version)
        # shellcheck disable=SC2086
        "$JAVA" -cp "$CLASSPATH" $LOCALKUBE_JVMFLAGS org.apache.zookeeper.version.VersionInfoMain
        ;;
    *)
        echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|status|print-cmd|version}" >&2
        exit 1
        ;;
esac
