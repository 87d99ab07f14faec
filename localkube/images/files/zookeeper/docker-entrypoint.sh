#!/bin/bash
# /docker-entrypoint.sh of the official `zookeeper` image, as localkube reproduces it:
#
# - started as root to run the server (`zkServer.sh ...`): hand the data, transaction-log
#   and log directories to user `zookeeper`, then run this script again as that user;
# - write $ZOO_CONF_DIR/zoo.cfg from the ZOO_* variables unless a zoo.cfg exists already
#   (e.g. mounted from a ConfigMap); ZOO_SERVERS is a space-separated list of complete
#   `server.N=host:peer:election[:role];clientPort` lines (standalone on localhost when
#   empty); ZOO_4LW_COMMANDS_WHITELIST is written only when set, so ZooKeeper's default
#   (`srvr` alone) applies otherwise; ZOO_CFG_EXTRA adds raw `key=value` lines;
# - write $ZOO_DATA_DIR/myid from ZOO_MY_ID (default 1) unless it exists;
# - exec the command.
set -e

if [ "$1" = "zkServer.sh" ] && [ "$(id -u)" = "0" ]; then
    chown -R zookeeper "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR"
    exec gosu zookeeper "$0" "$@"
fi

config="$ZOO_CONF_DIR/zoo.cfg"
if [ ! -f "$config" ]; then
    settings=(
        "dataDir=$ZOO_DATA_DIR"
        "dataLogDir=$ZOO_DATA_LOG_DIR"
        "tickTime=$ZOO_TICK_TIME"
        "initLimit=$ZOO_INIT_LIMIT"
        "syncLimit=$ZOO_SYNC_LIMIT"
        "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
        "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
        "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
        "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
        "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
    )
    # shellcheck disable=SC2206  # word splitting is the documented format
    servers=(${ZOO_SERVERS:-server.1=localhost:2888:3888;2181})
    settings+=("${servers[@]}")
    if [ -n "$ZOO_4LW_COMMANDS_WHITELIST" ]; then
        settings+=("4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST")
    fi
    # shellcheck disable=SC2206
    extra=($ZOO_CFG_EXTRA)
    settings+=("${extra[@]}")
    printf '%s\n' "${settings[@]}" >> "$config"
fi

if [ ! -f "$ZOO_DATA_DIR/myid" ]; then
    echo "${ZOO_MY_ID:-1}" > "$ZOO_DATA_DIR/myid"
fi

exec "$@"
