#!/bin/sh
# Image entrypoint: starts `java -jar portcullis.jar "$@"` (default command: run) with container
# JVM defaults, under tini when the image has it and nothing else is PID 1 (docker run --init and
# compose `init: true` already put an init there). Either way SIGHUP reaches the JVM and reloads,
# SIGTERM drains and exits 0. JAVA_OPTS is appended after the defaults, so it overrides them.
set -eu

# Heap as a share of the container's memory limit, leaving room for Netty's direct buffers,
# metaspace and thread stacks; no hsperfdata file (jstat/jps do not see the JVM; jcmd still
# works); the serial collector has the smallest footprint for a sidecar
# with a few event-loop threads. A JAVA_OPTS that picks another collector replaces it.
defaults="-XX:MaxRAMPercentage=50 -XX:InitialRAMPercentage=10 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData"
case " ${JAVA_OPTS:-} " in
  *" -XX:+Use"*"GC "*) ;;
  *) defaults="$defaults -XX:+UseSerialGC" ;;
esac

set -- java $defaults -Djava.library.path=/opt/portcullis/native \
  -Dlogback.configurationFile=/opt/portcullis/logback.xml ${JAVA_OPTS:-} \
  -jar /opt/portcullis/portcullis.jar "$@"

if [ "$$" = 1 ] && [ -x /usr/bin/tini ]; then
  exec /usr/bin/tini -- "$@"
fi
exec "$@"
