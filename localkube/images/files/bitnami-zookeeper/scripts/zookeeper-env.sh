#!/bin/bash
# zookeeper-env.sh: the ZOO_* settings of the bitnami/zookeeper image with their defaults
# (sourced by every script of the image). localkube's own version of the image's file.
#
# For each variable, NAME_FILE naming a readable file replaces NAME with the file's content.

for name in ZOO_DATA_LOG_DIR ZOO_PORT_NUMBER ZOO_SERVER_ID ZOO_SERVERS ZOO_ENABLE_ADMIN_SERVER \
    ZOO_ADMIN_SERVER_ADDRESS ZOO_ADMIN_SERVER_PORT_NUMBER ZOO_PEER_TYPE ZOO_TICK_TIME \
    ZOO_INIT_LIMIT ZOO_SYNC_LIMIT ZOO_MAX_CNXNS ZOO_MAX_CLIENT_CNXNS ZOO_AUTOPURGE_INTERVAL \
    ZOO_AUTOPURGE_RETAIN_COUNT ZOO_LOG_LEVEL ZOO_4LW_COMMANDS_WHITELIST ZOO_RECONFIG_ENABLED \
    ZOO_LISTEN_ALLIPS_ENABLED ZOO_MAX_SESSION_TIMEOUT ZOO_PRE_ALLOC_SIZE ZOO_SNAPCOUNT \
    ZOO_HC_TIMEOUT JVMFLAGS ZOO_HEAP_SIZE ZOO_ENABLE_AUTH ZOO_CLIENT_USER ZOO_SERVER_USERS \
    ZOO_CLIENT_PASSWORD ZOO_SERVER_PASSWORDS ZOO_ENABLE_QUORUM_AUTH; do
    file_var="${name}_FILE"
    if [[ -n "${!file_var:-}" ]]; then
        if [[ -r "${!file_var}" ]]; then
            export "$name=$(< "${!file_var}")"
            unset "$file_var"
        else
            echo "zookeeper WARN  ==> Skipping export of '$name'. '${!file_var}' is not readable." >&2
        fi
    fi
done

export BITNAMI_ROOT_DIR="/opt/bitnami"
export BITNAMI_VOLUME_DIR="/bitnami"
export BITNAMI_DEBUG="${BITNAMI_DEBUG:-false}"

# Paths
export ZOO_BASE_DIR="$BITNAMI_ROOT_DIR/zookeeper"
export ZOO_VOLUME_DIR="$BITNAMI_VOLUME_DIR/zookeeper"
export ZOO_DATA_DIR="$ZOO_VOLUME_DIR/data"
export ZOO_DATA_LOG_DIR="${ZOO_DATA_LOG_DIR:-}"
export ZOO_CONF_DIR="$ZOO_BASE_DIR/conf"
export ZOO_DEFAULT_CONF_DIR="$ZOO_BASE_DIR/conf.default"
export ZOO_CONF_FILE="$ZOO_CONF_DIR/zoo.cfg"
export ZOO_LOG_DIR="$ZOO_BASE_DIR/logs"
export ZOO_BIN_DIR="$ZOO_BASE_DIR/bin"
export ZOO_DAEMON_USER="zookeeper"
export ZOO_DAEMON_GROUP="zookeeper"

# Cluster
export ZOO_PORT_NUMBER="${ZOO_PORT_NUMBER:-2181}"
export ZOO_SERVER_ID="${ZOO_SERVER_ID:-1}"
export ZOO_SERVERS="${ZOO_SERVERS:-}"
export ZOO_ENABLE_ADMIN_SERVER="${ZOO_ENABLE_ADMIN_SERVER:-no}"
export ZOO_ADMIN_SERVER_ADDRESS="${ZOO_ADMIN_SERVER_ADDRESS:-127.0.0.1}"
export ZOO_ADMIN_SERVER_PORT_NUMBER="${ZOO_ADMIN_SERVER_PORT_NUMBER:-8080}"
export ZOO_PEER_TYPE="${ZOO_PEER_TYPE:-}"

# Server settings
export ZOO_TICK_TIME="${ZOO_TICK_TIME:-2000}"
export ZOO_INIT_LIMIT="${ZOO_INIT_LIMIT:-10}"
export ZOO_SYNC_LIMIT="${ZOO_SYNC_LIMIT:-5}"
export ZOO_MAX_CNXNS="${ZOO_MAX_CNXNS:-0}"
export ZOO_MAX_CLIENT_CNXNS="${ZOO_MAX_CLIENT_CNXNS:-60}"
export ZOO_AUTOPURGE_INTERVAL="${ZOO_AUTOPURGE_INTERVAL:-0}"
export ZOO_AUTOPURGE_RETAIN_COUNT="${ZOO_AUTOPURGE_RETAIN_COUNT:-3}"
export ZOO_LOG_LEVEL="${ZOO_LOG_LEVEL:-INFO}"
export ZOO_4LW_COMMANDS_WHITELIST="${ZOO_4LW_COMMANDS_WHITELIST:-srvr, mntr}"
export ZOO_RECONFIG_ENABLED="${ZOO_RECONFIG_ENABLED:-no}"
export ZOO_LISTEN_ALLIPS_ENABLED="${ZOO_LISTEN_ALLIPS_ENABLED:-no}"
export ZOO_MAX_SESSION_TIMEOUT="${ZOO_MAX_SESSION_TIMEOUT:-40000}"
export ZOO_PRE_ALLOC_SIZE="${ZOO_PRE_ALLOC_SIZE:-65536}"
export ZOO_SNAPCOUNT="${ZOO_SNAPCOUNT:-100000}"
export ZOO_HC_TIMEOUT="${ZOO_HC_TIMEOUT:-5}"

# Java
export JVMFLAGS="${JVMFLAGS:-}"
export ZOO_HEAP_SIZE="${ZOO_HEAP_SIZE:-1024}"

# Authentication (SASL is not reproduced: only the anonymous setup is accepted)
export ZOO_ENABLE_AUTH="${ZOO_ENABLE_AUTH:-no}"
export ZOO_ENABLE_QUORUM_AUTH="${ZOO_ENABLE_QUORUM_AUTH:-no}"
export ALLOW_ANONYMOUS_LOGIN="${ALLOW_ANONYMOUS_LOGIN:-no}"
export ALLOW_EMPTY_PASSWORD="${ALLOW_EMPTY_PASSWORD:-no}"
