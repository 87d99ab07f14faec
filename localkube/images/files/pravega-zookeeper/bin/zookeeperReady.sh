#!/usr/bin/env bash
# zookeeperReady.sh (localkube's pravega/zookeeper): the readiness probe. Ready when the
# server answers "imok" and either no ensemble exists yet or this member is a participant;
# an observer is promoted to participant (`zu remove` then `zu add ... participant`) and
# reported ready.
source /conf/env.sh
source /usr/local/bin/zookeeperFunctions.sh

DATA_DIR=/data
STATIC_CONFIG=$DATA_DIR/conf/zoo.cfg

if [[ "$(ruok)" != "imok" ]]; then
    echo "Zookeeper service is not available for requests"
    exit 1
fi
if ! getent hosts "$DOMAIN" > /dev/null; then
    echo "There is no active ensemble, skipping readiness probe..."
    exit 0
fi
memberOrdinal || exit 1
MYID=$((ORD + 1))
ROLE=
if [[ -f "$DATA_DIR/myid" && "$(cat "$DATA_DIR/myid")" == "$MYID" && -f "$STATIC_CONFIG" ]]; then
    dynamic="$(sed -n 's/^dynamicConfigFile=//p' "$STATIC_CONFIG" | tail -n 1)"
    entry="$(grep "^server\.$MYID=" "$dynamic" 2> /dev/null)"
    if [[ -z "$entry" ]]; then
        echo "Server not found in ensemble. Exiting ..."
        exit 1
    fi
    case "$entry" in
        *participant*) ROLE=participant ;;
        *observer*) ROLE=observer ;;
    esac
fi
case "$ROLE" in
    participant)
        echo "Zookeeper service is available and an active participant"
        exit 0
        ;;
    observer)
        echo "Zookeeper service is ready to be upgraded from observer to participant."
        ROLE=participant
        url="$(zkConnectionString)"
        /opt/libs/zu remove "$url" "$MYID"
        sleep 1
        /opt/libs/zu add "$url" "$MYID" "$(zkConfig)"
        exit 0
        ;;
    *)
        echo "Something has gone wrong. Unable to determine zookeeper role."
        exit 1
        ;;
esac
