#!/usr/bin/env bash
# Warm-up curve of Portcullis with the full policy: starts a fresh gateway, loads it as soon as its port opens and
# prints the requests/s of every second for the first SECONDS (default 30), for one or more sets of JVM flags
# (variants), run one after the other and repeated A/B/A/B (-r) so that the machine's drift shows.
#
# Per run: the time from `java` to the open port, then one line per second (wrk -d1s back to back, -c connections,
# the same requests as bench/run.sh: 8 bearer tokens, 16 forwarded client addresses), then "steady": the median
# req/s of the last 10 seconds, and the first second from which every later second reaches 90 % of it.
#
# -A builds an AppCDS archive first (java -XX:ArchiveClassesAtExit: a gateway serves requests for a few seconds
# and is stopped with SIGTERM; the archive holds every class it loaded) and adds a variant with
# -XX:SharedArchiveFile=<it> to the given ones (README "Memory and JVM flags": how an image could ship one).
# -O does the same with JDK 25's AOT cache (-XX:AOTCacheOutput, JEP 483/514/515: loaded and linked classes plus the
# training run's method profiles) and adds a variant with -XX:AOTCache=<it>; it needs `java` 25 or newer on the PATH
# (e.g. PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH bench/warmup.sh -O).
#
# Pinning: the gateway on CPU $PEER_CPU, wrk and the upstream (nginx) on CPU $LOAD_CPU. Loopback only; bounded in
# time; every process started here is stopped by pid on exit.
#
# Usage: bench/warmup.sh [-s SECONDS] [-r REPEATS] [-c CONNECTIONS] [-A] [-O] [-- VARIANT ...]
#   VARIANT: JVM flags (leading NAME=value words go to the environment); default: $PORTCULLIS_JAVA_OPTS.
#   (build first: mvn -B -q package -DskipTests)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# The defaults shipped for the jar and the image (README "Memory and JVM flags", docker/entrypoint.sh).
PORTCULLIS_JAVA_OPTS=${PORTCULLIS_JAVA_OPTS:-"-Xms32m -Xmx64m -XX:+UseSerialGC -XX:MaxDirectMemorySize=48m -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=96m -XX:+ExitOnOutOfMemoryError"}
SECONDS_TOTAL=30
REPEATS=2
CONNS=64
CDS=
AOT=
PEER_CPU=${PEER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${BENCH_PORT_BASE:-19380}
while getopts "s:r:c:AO" opt; do
  case $opt in
    s) SECONDS_TOTAL=$OPTARG ;;
    r) REPEATS=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    A) CDS=1 ;;
    O) AOT=1 ;;
    *) sed -n 2,22p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=("$PORTCULLIS_JAVA_OPTS")

JAR=${PORTCULLIS_JAR:-$ROOT/gateway-server/target/portcullis.jar}  # PORTCULLIS_JAR: another build to measure
BENCH_JAR=$ROOT/gateway-bench/target/benchmarks.jar
for f in "$JAR" "$BENCH_JAR"; do
  [ -f "$f" ] || { echo "missing $f: build first (mvn -B -q package -DskipTests)" >&2; exit 1; }
done
command -v wrk >/dev/null 2>&1 && { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || {
  echo "installing nginx-light wrk" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx-light wrk >/dev/null
}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

export BENCH_DIR=$(mktemp -d /tmp/portcullis-warmup.XXXXXX)
chmod 755 "$BENCH_DIR"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$BENCH_DIR"
}
trap cleanup EXIT

P_UPSTREAM=$PORT_BASE; P_FULL=$((PORT_BASE + 3))
java -cp "$BENCH_JAR" dev.portcullis.bench.ProxyBenchFixtures "$BENCH_DIR" "$P_UPSTREAM" \
  $((PORT_BASE + 1)) $((PORT_BASE + 2)) "$P_FULL" $((PORT_BASE + 4))
mkdir -p "$BENCH_DIR/www" "$BENCH_DIR/nginx-up"
chmod 777 "$BENCH_DIR/nginx-up"
head -c 100 /dev/zero | tr '\0' 'a' > "$BENCH_DIR/www/small"
cat > "$BENCH_DIR/nginx-up/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $BENCH_DIR/nginx-up/nginx.pid;
error_log $BENCH_DIR/nginx-up/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $BENCH_DIR/nginx-up; proxy_temp_path $BENCH_DIR/nginx-up; fastcgi_temp_path $BENCH_DIR/nginx-up;
  uwsgi_temp_path $BENCH_DIR/nginx-up; scgi_temp_path $BENCH_DIR/nginx-up;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$P_UPSTREAM; root $BENCH_DIR/www; default_type text/plain;
    location / { try_files \$uri /small; } }
}
EOF

start() { # $1 = cpu, $2 = log, rest = command; prints the pid
  local cpu=$1 log=$2; shift 2
  setsid taskset -c "$cpu" "$@" >"$log" 2>&1 </dev/null &
  echo $!
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 1500); do port_open "$1" && return 0; sleep 0.02; done
  echo "port $1 did not open" >&2; return 1
}
now_ms() { date +%s%3N; }
stop() { # $1 = pid, $2 = seconds to wait (default 15): SIGTERM, then wait for it
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 $((${2:-15} * 10))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
gateway() { # $1 = variant, $2 = log; prints the pid
  local words envs=()
  read -r -a words <<<"$1"
  while [ ${#words[@]} -gt 0 ] && [[ ${words[0]} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
    envs+=("${words[0]}"); words=("${words[@]:1}"); done
  start "$PEER_CPU" "$2" env "${envs[@]}" java "${words[@]}" -jar "$JAR" run -c "$BENCH_DIR/full.yaml"
}

PIDS+=("$(start "$LOAD_CPU" "$BENCH_DIR/nginx-up/out.log" "$NGINX" -c "$BENCH_DIR/nginx-up/nginx.conf")")
wait_port "$P_UPSTREAM"

if [ -n "$CDS" ]; then  # the training run: what an image build would do once
  archive=$BENCH_DIR/portcullis.jsa
  base=${VARIANTS[0]}
  pid=$(gateway "$base -XX:ArchiveClassesAtExit=$archive" "$BENCH_DIR/cds.log"); PIDS+=("$pid")
  wait_port "$P_FULL"
  taskset -c "$LOAD_CPU" wrk -t1 -c8 -d3s -s "$ROOT/bench/wrk.lua" "http://127.0.0.1:$P_FULL/small" >/dev/null
  stop "$pid"
  [ -s "$archive" ] || { echo "no CDS archive written: $(tail -5 "$BENCH_DIR/cds.log")" >&2; exit 1; }
  echo "AppCDS archive: $(($(stat -c %s "$archive") / 1024 / 1024)) MB" >&2
  VARIANTS+=("$base -XX:SharedArchiveFile=$archive")
fi
if [ -n "$AOT" ]; then  # JDK 25: the training run writes the AOT cache when it exits (a second JVM assembles it)
  cache=$BENCH_DIR/portcullis.aot
  base=${VARIANTS[0]}
  pid=$(gateway "$base -XX:AOTCacheOutput=$cache" "$BENCH_DIR/aot.log"); PIDS+=("$pid")
  wait_port "$P_FULL"
  taskset -c "$LOAD_CPU" wrk -t1 -c8 -d10s -s "$ROOT/bench/wrk.lua" "http://127.0.0.1:$P_FULL/small" >/dev/null
  stop "$pid" 120
  [ -s "$cache" ] || { echo "no AOT cache written: $(tail -5 "$BENCH_DIR/aot.log")" >&2; exit 1; }
  echo "AOT cache: $(($(stat -c %s "$cache") / 1024 / 1024)) MB" >&2
  VARIANTS+=("$base -XX:AOTCache=$cache")
fi

echo "warm-up: ${#VARIANTS[@]} variant(s) x $REPEATS, ${SECONDS_TOTAL} s each, wrk -c$CONNS; gateway on CPU $PEER_CPU," \
  "wrk/upstream on CPU $LOAD_CPU; $(java -version 2>&1 | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A SUMMARY
for repeat in $(seq 1 "$REPEATS"); do
  for i in "${!VARIANTS[@]}"; do
    t0=$(now_ms)
    pid=$(gateway "${VARIANTS[$i]}" "$BENCH_DIR/gateway-$i.log"); PIDS+=("$pid")
    wait_port "$P_FULL"
    open_ms=$(($(now_ms) - t0))
    curve=()
    for _ in $(seq 1 "$SECONDS_TOTAL"); do
      out=$(taskset -c "$LOAD_CPU" wrk -t2 -c"$CONNS" -d1s -s "$ROOT/bench/wrk.lua" "http://127.0.0.1:$P_FULL/small" 2>&1)
      if grep -q 'Non-2xx' <<<"$out"; then echo "variant $i: non-2xx answers: $out" >&2; exit 1; fi
      curve+=("$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")")
    done
    stop "$pid"
    steady=$(printf '%s\n' "${curve[@]: -10}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    reached=$SECONDS_TOTAL
    for ((s = ${#curve[@]} - 1; s >= 0; s--)); do
      if [ "${curve[$s]}" -lt $((steady * 9 / 10)) ]; then break; fi
      reached=$s
    done
    echo "variant $i run $repeat: ${VARIANTS[$i]:-(JVM defaults)}"
    echo "  port open after ${open_ms} ms; req/s per second: ${curve[*]}"
    echo "  steady (median of the last 10 s) $steady req/s; >= 90 % of it from second $((reached + 1)) on"
    SUMMARY[$i]="${SUMMARY[$i]:-} $((reached + 1))s/${open_ms}ms"
  done
done
echo
echo "| variant | JVM flags | steady from (per run) / port open |"
echo "|---|---|---|"
for i in "${!VARIANTS[@]}"; do echo "| $i | \`${VARIANTS[$i]:-(JVM defaults)}\` | ${SUMMARY[$i]} |"; done
