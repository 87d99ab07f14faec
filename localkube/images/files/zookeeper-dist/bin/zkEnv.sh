# zkEnv.sh: settings shared by zkServer.sh and zkCli.sh (sourced, not run).
#
# localkube's stand-in for the script of an Apache ZooKeeper binary distribution, used by
# the images laid out like one (official `zookeeper`, `pravega/zookeeper`,
# `bitnami/zookeeper`). It runs Debian's ZooKeeper jars, linked into ../lib by the image.
# Honoured as upstream does: ZOOCFGDIR (default ../conf, or `--config DIR` given to the
# calling script), ZOOCFG, $ZOOCFGDIR/zookeeper-env.sh and $ZOOCFGDIR/java.env, ZOO_LOG_DIR,
# JAVA_HOME, JVMFLAGS, SERVER_JVMFLAGS, CLIENT_JVMFLAGS, ZK_SERVER_HEAP, ZK_CLIENT_HEAP.

ZOOBINDIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
ZOOKEEPER_PREFIX="$(dirname "$ZOOBINDIR")"

if [ "$1" = "--config" ] && [ -n "$2" ]; then
    ZOOCFGDIR="$2"
    LOCALKUBE_SHIFT=2
else
    LOCALKUBE_SHIFT=0
fi
ZOOCFGDIR="${ZOOCFGDIR:-$ZOOKEEPER_PREFIX/conf}"
[ -f "$ZOOCFGDIR/zookeeper-env.sh" ] && . "$ZOOCFGDIR/zookeeper-env.sh"
[ -f "$ZOOCFGDIR/java.env" ] && . "$ZOOCFGDIR/java.env"
ZOOCFG="$ZOOCFGDIR/${ZOOCFG:-zoo.cfg}"

ZOO_LOG_DIR="${ZOO_LOG_DIR:-$ZOOKEEPER_PREFIX/logs}"
ZOO_LOG4J_PROP="${ZOO_LOG4J_PROP:-INFO,CONSOLE}"

if [ -n "$JAVA_HOME" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    JAVA="$JAVA_HOME/bin/java"
else
    JAVA=java
fi

CLASSPATH="$ZOOCFGDIR"
for jar in "$ZOOKEEPER_PREFIX"/lib/*.jar; do
    CLASSPATH="$CLASSPATH:$jar"
done

ZK_SERVER_HEAP="${ZK_SERVER_HEAP:-1000}"
ZK_CLIENT_HEAP="${ZK_CLIENT_HEAP:-256}"
SERVER_JVMFLAGS="-Xmx${ZK_SERVER_HEAP}m $SERVER_JVMFLAGS"
CLIENT_JVMFLAGS="-Xmx${ZK_CLIENT_HEAP}m $CLIENT_JVMFLAGS"

# Many JVMs share one small machine: serial GC, C1 only; names are looked up again after a
# second, so a peer that moved is found. Nothing here touches ZooKeeper's own settings.
LOCALKUBE_JVMFLAGS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dsun.net.inetaddr.ttl=1 -Dsun.net.inetaddr.negative.ttl=1"
