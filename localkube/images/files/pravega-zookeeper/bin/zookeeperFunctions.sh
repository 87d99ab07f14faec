#!/usr/bin/env bash
# zookeeperFunctions.sh (localkube's pravega/zookeeper): helpers sourced by the other
# scripts after /conf/env.sh (DOMAIN, QUORUM_PORT, LEADER_PORT, CLIENT_HOST, CLIENT_PORT).

# zkConfig: this member's dynamic-configuration entry, host:quorum:election:role;client.
zkConfig() {
    echo "$HOST.$DOMAIN:$QUORUM_PORT:$LEADER_PORT:$ROLE;$CLIENT_PORT"
}

# zkConnectionString: the client Service when it resolves, else this server.
zkConnectionString() {
    if getent hosts "$CLIENT_HOST" > /dev/null 2>&1; then
        echo "$CLIENT_HOST:$CLIENT_PORT"
    else
        echo "localhost:$CLIENT_PORT"
    fi
}

# memberOrdinal: sets NAME and ORD from the pod's host name NAME-ORD.
memberOrdinal() {
    HOST="$(hostname -s)"
    if [[ "$HOST" =~ ^(.*)-([0-9]+)$ ]]; then
        NAME="${BASH_REMATCH[1]}"
        ORD="${BASH_REMATCH[2]}"
    else
        echo "Failed to parse name and ordinal of Pod from '$HOST'" >&2
        return 1
    fi
}

# ruok: this server's answer to the four-letter word (the image has socat; nc does here).
ruok() {
    echo ruok | nc -q 1 -w 5 localhost "$CLIENT_PORT" 2> /dev/null
}
