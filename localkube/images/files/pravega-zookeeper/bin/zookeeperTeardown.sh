#!/usr/bin/env bash
# zookeeperTeardown.sh (localkube's pravega/zookeeper): the preStop hook.
#
# Waits up to 30 s for client connections from other hosts to go, then reads the cluster
# size the operator keeps in /zookeeper-operator/$CLUSTER_NAME ("CLUSTER_SIZE=N"); a member
# whose id is above it is being scaled away and removes itself from the ensemble
# (`reconfig -remove`). Without the operator nothing writes that znode, so no member ever
# removes itself (a deleted pod comes back with the same id). Finally the server is sent
# SIGTERM, so the pod does not wait for its whole grace period.
source /conf/env.sh
source /usr/local/bin/zookeeperFunctions.sh

for (( i = 0; i < 6; i++ )); do
    remote="$(echo cons | nc -q 1 -w 5 localhost "$CLIENT_PORT" 2> /dev/null | grep -v '^$' | grep -v '/127\.0\.0\.1:' | wc -l)"
    if [[ "$remote" -gt 0 ]]; then
        echo "$remote non-local connections still connected."
        sleep 5
    else
        echo "$remote non-local connections"
        break
    fi
done

url="$(zkConnectionString)"
MYID="$(cat /data/myid)"
size="$(/opt/libs/zu sync "$url" "/zookeeper-operator/$CLUSTER_NAME" 2> /dev/null)"
echo "CLUSTER_SIZE=$size, MyId=$MYID"
if [[ -n "$size" && "$size" -lt "$MYID" ]]; then
    /opt/libs/zu remove "$url" "$MYID"
fi

pgrep -f zoo.cfg | xargs -r kill
