# zkEnv.sh: environment shared by zkServer.sh and zkCli.sh (sourced, not run).
#
# Debian's ZooKeeper jars are linked into $ZOOKEEPER_PREFIX/lib by the image; the jar
# manifests name their remaining dependencies in /usr/share/java.

ZOOBINDIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
ZOOKEEPER_PREFIX="$(dirname "$ZOOBINDIR")"
ZOOCFGDIR="${ZOOCFGDIR:-$ZOOKEEPER_PREFIX/conf}"
ZOOCFG="$ZOOCFGDIR/${ZOOCFG:-zoo.cfg}"

if [ -f "$ZOOCFGDIR/java.env" ]; then
    . "$ZOOCFGDIR/java.env"
fi

ZOO_LOG_DIR="${ZOO_LOG_DIR:-/var/log/zookeeper}"
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

# Many JVMs share one small machine: serial GC, C1 only. Name lookups are re-done after
# a second so a pod that moved to a new address is found again. The four-letter words
# the probes and drills use are allowed; the admin server (no servlet jar) is off.
LOCALKUBE_JVMFLAGS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dsun.net.inetaddr.ttl=1 -Dsun.net.inetaddr.negative.ttl=1"
LOCALKUBE_SERVER_FLAGS="-Dzookeeper.4lw.commands.whitelist=ruok,srvr,mntr,stat,conf,cons,envi -Dzookeeper.admin.enableServer=false -Dzookeeper.preAllocSize=4096"
