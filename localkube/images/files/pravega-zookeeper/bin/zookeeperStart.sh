#!/usr/bin/env bash
# zookeeperStart.sh (localkube's pravega/zookeeper): join or bootstrap the ensemble with
# ZooKeeper's dynamic reconfiguration, then run the server.
#
# myid is ordinal+1. The first member with no ensemble to join (the headless Service
# resolves to no Ready member) writes a dynamic configuration naming only itself as a
# participant; a later member registers itself as an *observer* through the client Service
# (`zu add`, i.e. `reconfig -add`) and keeps the resulting configuration; its readiness
# probe later promotes it to participant. Configuration lives in /data/conf (a copy of the
# operator's ConfigMap at /conf, writable because ZooKeeper rewrites it on reconfig).
set -e
source /conf/env.sh
source /usr/local/bin/zookeeperFunctions.sh

DATA_DIR=/data
MYID_FILE=$DATA_DIR/myid
DYNCONFIG=$DATA_DIR/zoo.cfg.dynamic
ZOOCFGDIR=$DATA_DIR/conf
STATIC_CONFIG=$ZOOCFGDIR/zoo.cfg

memberOrdinal
MYID=$((ORD + 1))

ondisk_myid=false
ondisk_dynamic=false
if [[ -f "$MYID_FILE" && "$(cat "$MYID_FILE")" == "$MYID" && -f "$STATIC_CONFIG" ]]; then
    ondisk_myid=true
fi
[[ -f "$DYNCONFIG" ]] && ondisk_dynamic=true

if getent hosts "$DOMAIN" > /dev/null; then
    active_ensemble=true
else
    echo "there is no active ensemble"
    active_ensemble=false
fi

if [[ "$ondisk_myid" == true && "$ondisk_dynamic" == true ]]; then
    write_configuration=false
else
    write_configuration=true
fi
if [[ "$active_ensemble" == true && ( "$ondisk_myid" == false || "$ondisk_dynamic" == false ) ]]; then
    register_node=true
else
    register_node=false
fi

if [[ "$write_configuration" == true ]]; then
    echo "Writing myid: $MYID to: $MYID_FILE."
    echo "$MYID" > "$MYID_FILE"
    if [[ "$MYID" -eq 1 ]]; then
        ROLE=participant
        echo "Initial initialization of ordinal 0 pod, creating new config."
        echo "server.$MYID=$(zkConfig)" > "$DYNCONFIG"
    fi
fi

if [[ "$register_node" == true ]]; then
    ROLE=observer
    echo "Registering node and writing local configuration to disk."
    /opt/libs/zu add "$(zkConnectionString)" "$MYID" "$(zkConfig)" "$DYNCONFIG"
fi

if [[ ! -d "$ZOOCFGDIR" ]]; then
    mkdir "$ZOOCFGDIR"
    cp -f /conf/zoo.cfg "$ZOOCFGDIR"
else
    # Keep the last line ZooKeeper may have rewritten (dynamicConfigFile=<versioned file>).
    echo "Copying the /conf/zoo.cfg contents except the dynamic config file during restart"
    kept="$(tail -n 1 "$STATIC_CONFIG")"
    { head -n -1 /conf/zoo.cfg; echo "$kept"; } > "$STATIC_CONFIG.new"
    mv "$STATIC_CONFIG.new" "$STATIC_CONFIG"
fi
# localkube: Debian's ZooKeeper has no Prometheus metrics provider (the image's 3.9 has);
# without this the server would refuse to start.
sed -i 's/^metricsProvider\./# localkube: no Prometheus provider in Debian: &/' "$STATIC_CONFIG"
cp -f /conf/log4j.properties /conf/log4j-quiet.properties /conf/env.sh "$ZOOCFGDIR"

if [[ -f "$DYNCONFIG" ]]; then
    echo "Starting zookeeper service"
    zkServer.sh --config "$ZOOCFGDIR" start-foreground
else
    echo "Node failed to register!"
    exit 1
fi
