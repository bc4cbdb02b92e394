#!/bin/sh
# Image entrypoint: starts `java -jar portcullis.jar "$@"` (default command: run) with container
# JVM defaults, under tini when the image has it and nothing else is PID 1 (docker run --init and
# compose `init: true` already put an init there). Either way SIGHUP reaches the JVM and reloads,
# SIGTERM drains and exits 0. JAVA_OPTS is appended after the defaults, so it overrides them.
set -eu

# Memory defaults (README "Memory and JVM flags", measured with bench/memory.sh): a 32 MiB heap that may grow to 64
# (the full benchmark policy keeps ~20 MiB live, also with 2,000 idle keep-alive connections) with the
# serial collector, which has the smallest footprint for a few event-loop threads; caps on Netty's direct
# memory, the JIT's code cache and metaspace, so that nothing grows past them unnoticed; glibc keeps at
# most 2 malloc arenas. RSS stays below 160 MB under load. An out-of-memory error ends the process (the
# engine restarts it); no hsperfdata file (jstat/jps do not see the JVM; jcmd still works).
# With a container memory limit the heap is a share of it (12.5 % up front, at most 25 %: a 256 MiB limit
# gives the measured 32-64 MiB); without one (a bare `docker run`, where the JVM would see the host's RAM)
# it is the fixed 32-64 MiB. (MinRAMPercentage too: below ~512 MiB the JVM takes that one, 50 % by default.)
# JAVA_OPTS comes after the defaults and overrides them; an option that sizes the heap (-Xmx, -Xms,
# -XX:MaxRAM..., -XX:InitialRAM..., -XX:MaxHeapSize=, -XX:InitialHeapSize=, -XX:MinHeapSize=) replaces this heap
# (a default -Xms32m above a smaller -XX:MaxHeapSize would stop the JVM), an option -XX:+Use<name>GC that picks a
# collector replaces the serial one.
defaults="-XX:+ExitOnOutOfMemoryError -XX:-UsePerfData -XX:MaxDirectMemorySize=48m -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=96m"

# The container's memory limit in bytes (cgroup v2, else v1), or nothing when there is none.
memory_limit() {
  limit=""
  if [ -r /sys/fs/cgroup/memory.max ]; then
    limit=$(cat /sys/fs/cgroup/memory.max)
  elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
    limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
  fi
  case "$limit" in
    "" | max | *[!0-9]*) return 0 ;;
  esac
  # cgroup v1 reports "no limit" as a number near 2^63
  [ "${#limit}" -lt 16 ] && echo "$limit"
  return 0
}

# JAVA_OPTS is split into options at whitespace, never glob-expanded (-Xlog:gc* is an option, not a pattern).
# Each option is looked at on its own, so that two unrelated ones (-XX:+UseNUMA -XX:+DisableExplicitGC) never
# read as one that picks a collector.
set -f
sets_heap=""
sets_gc=""
for opt in ${JAVA_OPTS:-}; do
  case "$opt" in
    -Xmx?* | -Xms?* | -XX:MaxRAM* | -XX:InitialRAM* | -XX:MaxHeapSize=* | -XX:InitialHeapSize=* | -XX:MinHeapSize=*)
      sets_heap=1 ;;
    -XX:+Use*SystemGC) ;;        # Parallel GC's System.gc() tuning (UseMaximumCompactionOnSystemGC), no collector
    -XX:+Use*GC) sets_gc=1 ;;    # UseG1GC, UseParallelGC, UseZGC, UseShenandoahGC, UseSerialGC, UseEpsilonGC
  esac
done
if [ -z "$sets_heap" ]; then
  if [ -n "$(memory_limit)" ]; then
    defaults="$defaults -XX:InitialRAMPercentage=12.5 -XX:MinRAMPercentage=25 -XX:MaxRAMPercentage=25"
  else
    defaults="$defaults -Xms32m -Xmx64m"
  fi
fi
if [ -z "$sets_gc" ]; then
  defaults="$defaults -XX:+UseSerialGC"
fi
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

set -- java $defaults -Djava.library.path=/opt/portcullis/native \
  -Dlogback.configurationFile=/opt/portcullis/logback.xml ${JAVA_OPTS:-} \
  -jar /opt/portcullis/portcullis.jar "$@"

if [ "$$" = 1 ] && [ -x /usr/bin/tini ]; then
  exec /usr/bin/tini -- "$@"
fi
exec "$@"
