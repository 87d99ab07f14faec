#!/bin/bash
# libzookeeper.sh: functions of localkube's bitnami/zookeeper image (validation, zoo.cfg
# generation, first-boot initialisation, health check), written from the image's
# documented behaviour.

log() {
    local level="$1"
    shift
    printf '%s %-5s ==> %s\n' "zookeeper" "$level" "$*" >&2
}
info() { log INFO "$@"; }
warn() { log WARN "$@"; }
error() { log ERROR "$@"; }
debug() { [[ "$BITNAMI_DEBUG" = true ]] && log DEBUG "$@"; return 0; }

is_yes() {
    [[ "${1,,}" =~ ^(yes|true|1)$ ]]
}

# zoo_set FILE KEY VALUE: replace KEY's line (also a commented-out one) or append it.
zoo_set() {
    local file="$1" key="$2" value="$3"
    local pattern="^[[:space:]]*#*[[:space:]]*${key//./\\.}="
    if grep -qE "$pattern" "$file"; then
        sed -i -E "s|${pattern}.*|${key}=${value}|" "$file"
    else
        printf '%s=%s\n' "$key" "$value" >> "$file"
    fi
}

zookeeper_validate() {
    local failed=0
    fail() { error "$1"; failed=1; }
    [[ "$ZOO_PORT_NUMBER" =~ ^[0-9]+$ ]] && (( ZOO_PORT_NUMBER >= 1024 )) ||
        fail "An invalid port was specified in the environment variable ZOO_PORT_NUMBER: $ZOO_PORT_NUMBER"
    if is_yes "$ALLOW_ANONYMOUS_LOGIN" || is_yes "$ALLOW_EMPTY_PASSWORD"; then
        warn "You have set the environment variable ALLOW_ANONYMOUS_LOGIN=${ALLOW_ANONYMOUS_LOGIN}. For safety reasons, do not use this flag in a production environment."
    elif ! is_yes "$ZOO_ENABLE_AUTH"; then
        fail "The ZOO_ENABLE_AUTH environment variable does not configure authentication. Set the environment variable ALLOW_ANONYMOUS_LOGIN=yes to allow unauthenticated users to connect to ZooKeeper."
    fi
    if is_yes "$ZOO_ENABLE_AUTH" || is_yes "$ZOO_ENABLE_QUORUM_AUTH"; then
        fail "SASL authentication (ZOO_ENABLE_AUTH, ZOO_ENABLE_QUORUM_AUTH) is not available in localkube's bitnami/zookeeper image."
    fi
    local server with_ids=no
    [[ "$ZOO_SERVERS" == *"::"* ]] && with_ids=yes
    for server in ${ZOO_SERVERS//[;, ]/ }; do
        if [[ "$with_ids" = yes ]]; then
            [[ "$server" =~ ^[^[:space:]]+:[0-9]+:[0-9]+(:observer|:participant)?::[0-9]+$ ]] ||
                fail "Zookeeper server ${server} should follow the next syntax: host:port:port::id. Example: zookeeper:2888:3888::1 zookeeper:2888:3888:observer::1"
        else
            [[ "$server" =~ ^[^[:space:]]+:[0-9]+:[0-9]+(:observer|:participant)?$ ]] ||
                fail "Zookeeper server ${server} should follow the next syntax: host:port:port. Example: zookeeper:2888:3888 zookeeper:2888:3888:observer"
        fi
    done
    if [[ -n "$ZOO_PEER_TYPE" && "$ZOO_PEER_TYPE" != observer && "$ZOO_PEER_TYPE" != participant ]]; then
        fail "The ZOO_PEER_TYPE environment ${ZOO_PEER_TYPE} should be one of [observer/participant]"
    fi
    return "$failed"
}

add_jvmflags() {
    export JVMFLAGS="${JVMFLAGS} $1"
    echo "export JVMFLAGS=\"${JVMFLAGS}\"" > "$ZOO_CONF_DIR/java.env"
}

zookeeper_generate_conf() {
    local cfg="$ZOO_CONF_FILE"
    cp "$ZOO_CONF_DIR/zoo_sample.cfg" "$cfg"
    chmod 600 "$cfg"
    echo >> "$cfg"
    local bool_reconfig=false bool_allips=false admin=false
    is_yes "$ZOO_RECONFIG_ENABLED" && bool_reconfig=true
    is_yes "$ZOO_LISTEN_ALLIPS_ENABLED" && bool_allips=true
    is_yes "$ZOO_ENABLE_ADMIN_SERVER" && admin=true
    zoo_set "$cfg" tickTime "$ZOO_TICK_TIME"
    zoo_set "$cfg" initLimit "$ZOO_INIT_LIMIT"
    zoo_set "$cfg" syncLimit "$ZOO_SYNC_LIMIT"
    zoo_set "$cfg" preAllocSize "$ZOO_PRE_ALLOC_SIZE"
    zoo_set "$cfg" snapCount "$ZOO_SNAPCOUNT"
    zoo_set "$cfg" dataDir "$ZOO_DATA_DIR"
    [[ -n "$ZOO_DATA_LOG_DIR" ]] && zoo_set "$cfg" dataLogDir "$ZOO_DATA_LOG_DIR"
    zoo_set "$cfg" clientPort "$ZOO_PORT_NUMBER"
    zoo_set "$cfg" maxCnxns "$ZOO_MAX_CNXNS"
    zoo_set "$cfg" maxClientCnxns "$ZOO_MAX_CLIENT_CNXNS"
    zoo_set "$cfg" reconfigEnabled "$bool_reconfig"
    zoo_set "$cfg" quorumListenOnAllIPs "$bool_allips"
    zoo_set "$cfg" autopurge.purgeInterval "$ZOO_AUTOPURGE_INTERVAL"
    zoo_set "$cfg" autopurge.snapRetainCount "$ZOO_AUTOPURGE_RETAIN_COUNT"
    zoo_set "$cfg" 4lw.commands.whitelist "$ZOO_4LW_COMMANDS_WHITELIST"
    zoo_set "$cfg" maxSessionTimeout "$ZOO_MAX_SESSION_TIMEOUT"
    zoo_set "$ZOO_CONF_DIR/log4j.properties" zookeeper.console.threshold "$ZOO_LOG_LEVEL"
    zoo_set "$cfg" admin.serverAddress "$ZOO_ADMIN_SERVER_ADDRESS"
    zoo_set "$cfg" admin.serverPort "$ZOO_ADMIN_SERVER_PORT_NUMBER"
    zoo_set "$cfg" admin.enableServer "$admin"

    local servers=(${ZOO_SERVERS//[;, ]/ }) server i=1
    if (( ${#servers[@]} > 1 )); then
        for server in "${servers[@]}"; do
            if [[ "$server" == *"::"* ]]; then
                info "Adding server: ${server%%::*} with id: ${server##*::}"
                zoo_set "$cfg" "server.${server##*::}" "${server%%::*};$ZOO_PORT_NUMBER"
            else
                info "Adding server: $server"
                zoo_set "$cfg" "server.$i" "$server;$ZOO_PORT_NUMBER"
                i=$((i + 1))
            fi
        done
    else
        info "No additional servers were specified. ZooKeeper will run in standalone mode..."
    fi
    # ZOO_CFG_<KEY_WITH_UNDERSCORES>=value becomes key.with.dots=value
    local var
    for var in $(compgen -v ZOO_CFG_); do
        local key="${var#ZOO_CFG_}"
        zoo_set "$cfg" "${key//_/.}" "${!var}"
    done
}

zookeeper_initialize() {
    info "Initializing ZooKeeper..."
    if [[ ! -f "$ZOO_CONF_FILE" ]]; then
        info "No injected configuration file found, creating default config files..."
        zookeeper_generate_conf
        if [[ "$JVMFLAGS" =~ -Xm[xs].*-Xm[xs] ]]; then
            debug "Using specified values (JVMFLAGS=${JVMFLAGS})"
        else
            add_jvmflags "-Xmx${ZOO_HEAP_SIZE}m -Xms${ZOO_HEAP_SIZE}m"
        fi
        add_jvmflags "-Dzookeeper.electionPortBindRetry=0"
    else
        info "User injected custom configuration detected!"
    fi
    mkdir -p "$ZOO_DATA_DIR"
    if [[ -z "$(ls -A "$ZOO_DATA_DIR" 2>/dev/null)" ]]; then
        info "Deploying ZooKeeper from scratch..."
        echo "$ZOO_SERVER_ID" > "$ZOO_DATA_DIR/myid"
    else
        info "Deploying ZooKeeper with persisted data..."
    fi
    if [[ -n "$ZOO_PEER_TYPE" ]]; then
        zoo_set "$ZOO_CONF_FILE" peerType "$ZOO_PEER_TYPE"
    fi
}

zookeeper_healthcheck() {
    local reply
    reply="$(echo ruok | timeout "$ZOO_HC_TIMEOUT" nc -q 1 -w "$ZOO_HC_TIMEOUT" localhost "$ZOO_PORT_NUMBER")"
    if [[ "$reply" == *imok* ]]; then
        info "Zookeeper healthcheck succeeded"
        return 0
    fi
    error "Zookeeper healthcheck failed."
    return 1
}
